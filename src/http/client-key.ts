import type { FastifyRequest } from "fastify";

/**
 * Whom request limits and render budgets count against: the token's principal, or the
 * peer's IP address when anonymous. Authentication runs first (an onRequest hook), so a
 * bad token never gets counted as its claimed principal.
 */
export function clientKey(request: FastifyRequest): string {
  return request.caller ? `p:${request.caller.sub}` : `ip:${request.ip}`;
}
