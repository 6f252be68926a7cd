import type { FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.js";
import type { Caller } from "../domain/access.js";
import type { TokenVerifier } from "../ports/token-verifier.js";

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller;
  }
}

/** Resolves the caller from `Authorization: Bearer`; no header means anonymous. */
export async function authenticate(request: FastifyRequest, tokens: TokenVerifier): Promise<void> {
  const header = request.headers.authorization;
  if (header === undefined) {
    request.caller = null;
    return;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError("invalid_token", "Authorization must be 'Bearer <token>'");
  request.caller = await tokens.verify(match[1]!);
}

export { requirePrincipalOf as requirePrincipal } from "../domain/access.js";
