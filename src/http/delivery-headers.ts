import type { FastifyReply, FastifyRequest } from "fastify";
import type { SignedPass, SignedUrlService } from "../services/signed-urls.js";

const IMMUTABLE = "public, max-age=31536000, immutable";
const PRIVATE = "private, max-age=3600";

/**
 * Caching of delivered bytes (originals, variants, HLS files): content-derived URLs, so
 * public responses are cacheable forever; private ones for an hour, or through a signed
 * URL no longer than it stays valid.
 */
export function cacheControl(isPublic: boolean, pass: SignedPass | undefined, signedUrls: Pick<SignedUrlService, "privateCacheControl">): string {
  if (isPublic) return IMMUTABLE;
  return pass ? signedUrls.privateCacheControl(pass) : PRIVATE;
}

/**
 * Cache detail (`X-Cache`, `Server-Timing`) for admins only: a HIT on someone's first
 * request would tell them another owner already asked for the same content. A render
 * under `max_bytes` adds the quality it chose: `Server-Timing: render;dur=41.2, quality;desc=62`.
 */
export function cacheDetail(request: FastifyRequest, reply: FastifyReply, cache: "HIT" | "MISS", renderMs?: number, quality?: number): void {
  if (!request.caller?.admin) return;
  reply.header("X-Cache", cache);
  if (renderMs === undefined) return;
  const timing = cache === "HIT" ? "cache;desc=hit" : `render;dur=${renderMs.toFixed(1)}`;
  reply.header("Server-Timing", quality === undefined || cache === "HIT" ? timing : `${timing}, quality;desc=${quality}`);
}
