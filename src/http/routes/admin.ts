import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import { z } from "zod";
import { ASSET_KINDS, type AssetKind } from "../../domain/media-types.js";
import type { JobInfo, JobState, MaintenanceService } from "../../services/maintenance.js";
import type { PrewarmService } from "../../services/prewarm.js";
import { MAX_PREWARM_TOP } from "../../domain/prewarm.js";
import type { QuotaService } from "../../services/quotas.js";
import type { RevokeTarget, TokenService } from "../../services/tokens.js";
import { requirePrincipal } from "../auth.js";

const STATES: readonly JobState[] = ["waiting", "active", "done", "dead"];

export const reprocessSchema = z.object({
  assetId: z.string().min(1).optional(),
  type: z.enum(ASSET_KINDS as [AssetKind, ...AssetKind[]]).optional(),
}).strict();

export const prewarmSchema = z.object({
  assetId: z.string().min(1).optional(),
  owner: z.string().min(1).max(256).optional(),
  top: z.number().int().min(1).max(MAX_PREWARM_TOP).optional(),
  dryRun: z.boolean().optional(),
}).strict();

export interface AdminRouteDeps {
  maintenance: MaintenanceService;
  prewarm?: Pick<PrewarmService, "run">;
  quotas: QuotaService;
  tokens: TokenService;
}

/** Operator endpoints: jobs and dead-letter retry, reprocessing, quotas, the upload sweep, token revocation. Admins only. */
export async function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): Promise<void> {
  const requireAdmin = (request: FastifyRequest) => {
    if (!requirePrincipal(request.caller).admin) throw new AppError("forbidden", "this needs an admin token");
  };

  app.get("/v1/admin/jobs", async (request) => {
    requireAdmin(request);
    const query = request.query as Record<string, string | undefined>;
    const state = (query.state ?? "dead") as JobState;
    if (!STATES.includes(state)) throw new InvalidParameterError("state", `state must be one of ${STATES.join(", ")}`);
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidParameterError("limit", "limit must be an integer from 1 to 1000");
    const jobs = await deps.maintenance.jobs(state, limit);
    return { items: jobs.map(toJson) };
  });

  /**
   * Re-runs metadata extraction for ready assets (one, or all of a type, or all), e.g.
   * after an upgrade added new facts. Idempotent: an asset already queued is not queued twice.
   */
  app.post("/v1/admin/reprocess", async (request) => {
    requireAdmin(request);
    const parsed = reprocessSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidParameterError(issue.path.join(".") || "body", issue.message);
    }
    return deps.maintenance.reprocess(parsed.data);
  });

  /**
   * Demand prediction now, for one ready asset or every ready asset of an owner:
   * `{assetId?, owner?, top?, dryRun?}` → what was queued (or, dry, would be).
   */
  app.post("/v1/admin/prewarm", async (request) => {
    requireAdmin(request);
    const parsed = prewarmSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidParameterError(issue.path.join(".") || "body", issue.message);
    }
    if (!deps.prewarm) throw new AppError("not_found", "prewarm is not available on this server");
    return deps.prewarm.run(parsed.data);
  });

  app.get("/v1/admin/quotas", async (request) => {
    requireAdmin(request);
    return { items: await deps.quotas.list(), defaultMaxBytes: deps.quotas.defaultMaxBytes };
  });

  app.get("/v1/admin/quotas/:owner", async (request) => {
    requireAdmin(request);
    return deps.quotas.of(ownerParam(request));
  });

  /** `{maxBytes: n}` sets the owner's own limit; `{maxBytes: null}` returns them to the default. */
  app.put("/v1/admin/quotas/:owner", async (request) => {
    requireAdmin(request);
    const parsed = quotaSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw new InvalidParameterError("maxBytes", "maxBytes must be a whole number of bytes (0 or more) or null");
    return deps.quotas.setLimit(ownerParam(request), parsed.data.maxBytes);
  });

  /** Runs the upload expiry sweep now (it also runs on a schedule). */
  app.post("/v1/admin/sweep", async (request) => {
    requireAdmin(request);
    return deps.maintenance.sweep();
  });

  /** Runs gc now (it also runs on a schedule); `{dryRun: true}` reports without removing. */
  app.post("/v1/admin/gc", async (request) => {
    requireAdmin(request);
    const body = (request.body ?? {}) as { dryRun?: unknown };
    if (body.dryRun !== undefined && typeof body.dryRun !== "boolean") throw new InvalidParameterError("dryRun", "dryRun must be true or false");
    return deps.maintenance.gc({ dryRun: body.dryRun === true });
  });

  /** `{jti}` or `{token}`: that token is refused (401 token_revoked) by every API process from now on. */
  app.post("/v1/admin/tokens/revoke", async (request, reply) => {
    requireAdmin(request);
    await deps.tokens.revoke(request.caller, revokeTarget(request.body));
    return reply.code(204).send();
  });

  app.post("/v1/admin/jobs/:id/retry", async (request) => {
    requireAdmin(request);
    const { id } = request.params as { id: string };
    await deps.maintenance.retryDead(id);
    return { id, retried: true };
  });
}

export const quotaSchema = z.object({ maxBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable() }).strict();

function revokeTarget(body: unknown): RevokeTarget {
  const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => key !== "jti" && key !== "token");
  if (unknown !== undefined) throw new InvalidParameterError(unknown, `unknown field ${unknown}: send {jti} or {token}`);
  if (fields.jti !== undefined && fields.token !== undefined) throw new InvalidParameterError("jti", "send either jti or token, not both");
  if (fields.token !== undefined) {
    if (typeof fields.token !== "string" || fields.token === "") throw new InvalidParameterError("token", "token must be the token to revoke");
    return { token: fields.token };
  }
  if (typeof fields.jti !== "string") throw new InvalidParameterError("jti", "jti (the token id to revoke) is required");
  return { jti: fields.jti };
}

function ownerParam(request: FastifyRequest): string {
  const { owner } = request.params as { owner: string };
  if (owner.length < 1 || owner.length > 256) throw new InvalidParameterError("owner", "owner must be 1 to 256 characters");
  return owner;
}

function toJson(job: JobInfo) {
  return {
    id: job.id, name: job.name, key: job.key, payload: job.payload, state: job.state, attempts: job.attempts,
    maxAttempts: job.maxAttempts, lastError: job.lastError, runAt: new Date(job.runAt).toISOString(),
    createdAt: new Date(job.createdAt).toISOString(), updatedAt: new Date(job.updatedAt).toISOString(),
  };
}
