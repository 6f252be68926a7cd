import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { StoreCareService } from "../../services/store-care.js";
import { requirePrincipal } from "../auth.js";

export interface StoreCareRouteDeps {
  care: Pick<StoreCareService, "scrub" | "lifecycle">;
}

export const passSchema = z.object({ limit: z.number().int().min(1).max(1_000_000).optional() }).strict();

function passOptions(body: unknown): { limit?: number } {
  const parsed = passSchema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidParameterError(issue.path.join(".") || "body", issue.path.length ? "limit must be a whole number from 1 to 1000000" : issue.message);
  }
  return parsed.data.limit === undefined ? {} : { limit: parsed.data.limit };
}

/** `POST /v1/admin/scrub {limit?}` and `POST /v1/admin/lifecycle {limit?}`: run a pass now, answer its report. Admins only. */
export async function storeCareRoutes(app: FastifyInstance, deps: StoreCareRouteDeps): Promise<void> {
  const requireAdmin = (request: FastifyRequest) => {
    if (!requirePrincipal(request.caller).admin) throw new AppError("forbidden", "this needs an admin token");
  };

  app.post("/v1/admin/scrub", async (request) => {
    requireAdmin(request);
    return deps.care.scrub(passOptions(request.body));
  });

  app.post("/v1/admin/lifecycle", async (request) => {
    requireAdmin(request);
    return deps.care.lifecycle(passOptions(request.body));
  });
}
