import type { FastifyInstance } from "fastify";
import type { HlsService } from "../../services/hls.js";
import type { SignedUrlService } from "../../services/signed-urls.js";
import { cacheControl, cacheDetail } from "../delivery-headers.js";
import { signedParts } from "../params.js";
import { sendRanged } from "../ranges.js";

export interface HlsRouteDeps {
  hls: Pick<HlsService, "stream">;
  signedUrls: Pick<SignedUrlService, "check" | "privateCacheControl" | "playlist">;
}

/**
 * `GET|HEAD /a/:id/hls/master.m3u8` and the rendition playlists and segments under it. The
 * first request for a ladder that does not exist yet queues `transcode-hls` and answers
 * 202 with Retry-After and Location; the client polls. Ladders are keyed by content hash,
 * so identical videos share one, and their files are immutable.
 */
export async function hlsRoutes(app: FastifyInstance, deps: HlsRouteDeps): Promise<void> {
  app.route({
    method: ["GET", "HEAD"],
    url: "/a/:id/hls/*",
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const [path, query] = signedParts(request);
      const pass = deps.signedUrls.check(path, query);
      const { id, "*": name } = request.params as { id: string; "*": string };
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
      // Through a signed URL, a playlist's URIs are signed too, so the player can follow them.
      const data = pass && name.endsWith(".m3u8")
        ? Buffer.from(deps.signedUrls.playlist(result.data.toString("utf8"), path, pass))
        : result.data;
      return sendRanged(request, reply, {
        etag: pass && name.endsWith(".m3u8") ? `"${result.etag.slice(1, -1)}-${pass.expiresAt}"` : result.etag, size: data.length, contentType: result.contentType,
        open: (range) => (range ? data.subarray(range.start, range.end + 1) : data),
      });
    },
  });
}
