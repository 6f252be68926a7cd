import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DASH_MANIFEST } from "../../domain/dash.js";
import { NotFoundError } from "../../domain/errors.js";
import type { HlsService } from "../../services/hls.js";
import type { SignedUrlService } from "../../services/signed-urls.js";
import { cacheControl, cacheDetail } from "../delivery-headers.js";
import { signedParts } from "../params.js";
import { sendRanged } from "../ranges.js";

export interface HlsRouteDeps {
  hls: Pick<HlsService, "stream">;
  signedUrls: Pick<SignedUrlService, "check" | "privateCacheControl" | "playlist" | "dash">;
}

type Protocol = "hls" | "dash";

/**
 * `GET|HEAD /a/:id/hls/master.m3u8` with the rendition playlists and fMP4 segments under
 * it, and `GET|HEAD /a/:id/dash/manifest.mpd`, the DASH manifest of the same ladder (its
 * segment URLs point into `hls/`, so both players fetch, and a CDN caches, one set of
 * files). The first request for a ladder that does not exist yet queues `transcode-hls` and
 * answers 202 with Retry-After and Location; the client polls. Ladders are keyed by
 * content hash, so identical videos share one, and their files are immutable.
 */
export async function hlsRoutes(app: FastifyInstance, deps: HlsRouteDeps): Promise<void> {
  for (const protocol of ["hls", "dash"] as const) {
    app.route({
      method: ["GET", "HEAD"],
      url: `/a/:id/${protocol}/*`,
      exposeHeadRoute: false,
      handler: (request, reply) => serveLadderFile(deps, protocol, request, reply),
    });
  }
}

async function serveLadderFile(deps: HlsRouteDeps, protocol: Protocol, request: FastifyRequest, reply: FastifyReply) {
  const [path, query] = signedParts(request);
  const pass = deps.signedUrls.check(path, query);
  const { id, "*": name } = request.params as { id: string; "*": string };
  // One URL per file: the MPD only under dash/, everything else only under hls/.
  if ((protocol === "dash") !== (name === DASH_MANIFEST)) throw new NotFoundError("file");
  const result = await deps.hls.stream(request.caller, id, name, { signed: pass !== undefined });
  if (result.kind === "transcoding") {
    reply.header("Retry-After", String(result.retryAfter)).header("Location", request.url);
    cacheDetail(request, reply, "MISS");
    reply.header("Cache-Control", "no-store");
    return reply.code(202).send({ status: "transcoding", retryAfter: result.retryAfter, location: request.url });
  }
  reply.header("Cache-Control", cacheControl(result.public, pass, deps.signedUrls));
  reply.header("X-Content-Type-Options", "nosniff");
  cacheDetail(request, reply, "HIT");
  // Through a signed URL, a playlist's or manifest's URIs are signed too, so the player can follow them.
  const rewrite = pass === undefined ? undefined
    : name.endsWith(".m3u8") ? deps.signedUrls.playlist
    : name === DASH_MANIFEST ? deps.signedUrls.dash
    : undefined;
  const data = pass && rewrite ? Buffer.from(rewrite(result.data.toString("utf8"), path, pass)) : result.data;
  return sendRanged(request, reply, {
    etag: pass && rewrite ? `"${result.etag.slice(1, -1)}-${pass.expiresAt}"` : result.etag, size: data.length, contentType: result.contentType,
    open: (range) => (range ? data.subarray(range.start, range.end + 1) : data),
  });
}
