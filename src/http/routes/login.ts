import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { TrustedHost } from "../../domain/trusted-hosts.js";
import { loginLink, type LoginCodeService } from "../../services/login-codes.js";
import { requirePrincipal } from "../auth.js";
import { baseUrlOf } from "../manifest.js";

export interface LoginRouteDeps {
  publicUrl: string | undefined;
  trustedHosts: readonly TrustedHost[];
  loginCodes: LoginCodeService;
}

export const loginCodeSchema = z.object({
  sub: z.string().min(1).max(256).optional(),
  admin: z.boolean().optional(),
}).strict();

/**
 * One-time console sign-in: an admin mints a link (`POST /v1/admin/login-codes`), whoever
 * opens it exchanges the code in its fragment for a 12-hour session token
 * (`POST /v1/auth/login`, no token needed). Both stay under the per-client rate limit.
 */
export async function loginRoutes(app: FastifyInstance, deps: LoginRouteDeps): Promise<void> {
  app.post("/v1/admin/login-codes", async (request, reply) => {
    if (!requirePrincipal(request.caller).admin) throw new AppError("forbidden", "this needs an admin token");
    const parsed = loginCodeSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidParameterError(issue.path.join(".") || "body", issue.message);
    }
    const { code, expiresAt } = await deps.loginCodes.mint(request.caller, {
      ...(parsed.data.sub !== undefined ? { sub: parsed.data.sub } : {}),
      ...(parsed.data.admin !== undefined ? { admin: parsed.data.admin } : {}),
    });
    return reply.code(201).header("Cache-Control", "no-store")
      .send({ url: loginLink(baseUrlOf(deps, request), code), code, expiresAt: new Date(expiresAt).toISOString() });
  });

  app.post("/v1/auth/login", async (request, reply) => {
    const body = (typeof request.body === "object" && request.body !== null ? request.body : {}) as { code?: unknown };
    const session = await deps.loginCodes.redeem(body.code);
    return reply.header("Cache-Control", "no-store")
      .send({ token: session.token, expiresAt: new Date(session.expiresAt).toISOString(), sub: session.sub });
  });
}
