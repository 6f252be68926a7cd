import type { FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.js";
import { mayWrite, type Caller } from "../domain/access.js";
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

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Routes that change nothing although they are not GETs: signing a URL grants read access
 * only; the upload-URL targets are authorised by the grant in their `token` parameter (issued
 * to a caller that could write), never by the bearer header.
 */
const READ_ONLY_WRITES = new Set([
  "POST /v1/assets/:id/signed-url",
  "PUT /v1/uploads/:id/data",
  "PUT /v1/uploads/:id/parts/:n",
]);

/**
 * A token whose `scope` lacks `asset:write` (and `admin`) changes nothing under /v1
 * (DESIGN §10), whatever its role or the asset's grants: one check for every route, tus included.
 */
export function requireWriteScope(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method) || mayWrite(request.caller)) return;
  const route = request.routeOptions.url;
  if (route === undefined || !route.startsWith("/v1/")) return;
  if (READ_ONLY_WRITES.has(`${request.method} ${route}`)) return;
  const granted = request.caller?.scopes?.join(" ") || "none";
  throw new AppError("forbidden", `this token's scope (${granted}) only reads: changes need the asset:write scope`);
}

export { requirePrincipalOf as requirePrincipal } from "../domain/access.js";
