import type { FastifyInstance } from "fastify";
import { AppError, NotFoundError } from "../../domain/errors.js";
import { isHlsFileName, LADDER_VERSION } from "../../domain/hls.js";
import { etagMatches } from "../../domain/http-rules.js";
import type { AppDeps } from "../app.js";

const RETRY_AFTER_SECONDS = 5;

/**
 * `GET|HEAD /a/:id/hls/master.m3u8` and the rendition playlists and segments under it. The
 * first request for a ladder that does not exist yet queues `transcode-hls` and answers
 * 202 with Retry-After and Location; the client polls. Ladders are keyed by content hash,
 * so identical videos share one, and their files are immutable.
 */
export async function hlsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Installed tools do not change while the process runs: ask once.
  let ffmpeg: ReturnType<AppDeps["transcoder"]["status"]> | undefined;
  app.route({
    method: ["GET", "HEAD"],
    url: "/a/:id/hls/*",
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const { id, "*": name } = request.params as { id: string; "*": string };
      const asset = await deps.assets.find(request.caller, id, { tags: false });
      if (asset.kind !== "video" || !asset.blobSha256 || !isHlsFileName(name)) throw new NotFoundError("stream");
      if (asset.status === "quarantined") throw new AppError("quarantined", "the virus scanner flagged this file; it is not served");
      if (asset.status === "failed") throw new AppError("undecodable_media", asset.failure?.message ?? "the video could not be read");
      if (asset.status !== "ready") throw new AppError("state_conflict", `the asset is ${asset.status}; streams start once it is ready`);

      const sha256 = asset.blobSha256;
      const status = await deps.hls.status(sha256);
      if (status === "failed") {
        const failure = await deps.hls.failure(sha256);
        const code = failure?.code === "output_too_large" || failure?.code === "pixel_limit_exceeded" ? failure.code : "undecodable_media";
        throw new AppError(code, failure?.message ?? "the video could not be transcoded");
      }
      if (status === "missing" || status === "transcoding") {
        // Without ffmpeg the job could never succeed: say so instead of answering 202 forever.
        ffmpeg ??= deps.transcoder.status();
        const tool = await ffmpeg;
        if (!tool.available) throw new AppError("dependency_down", `video streaming is unavailable: ${tool.reason ?? "ffmpeg is missing"}`);
        await deps.queue.enqueue("transcode-hls", { assetId: asset.id }, { key: sha256 });
        reply.header("Retry-After", String(RETRY_AFTER_SECONDS)).header("Location", request.url).header("X-Cache", "MISS");
        reply.header("Cache-Control", "no-store");
        return reply.code(202).send({ status: "transcoding", retryAfter: RETRY_AFTER_SECONDS, location: request.url });
      }

      const file = await deps.hls.file(sha256, name);
      const etag = `"${sha256}-${LADDER_VERSION}-${name}"`;
      reply.header("ETag", etag);
      reply.header("Cache-Control", asset.public ? "public, max-age=31536000, immutable" : "private, max-age=3600");
      reply.header("X-Content-Type-Options", "nosniff");
      reply.header("X-Cache", "HIT");
      if (etagMatches(request.headers["if-none-match"], etag)) return reply.code(304).send();
      reply.type(file.contentType).header("Content-Length", file.data.length);
      return reply.send(request.method === "HEAD" ? undefined : file.data);
    },
  });
}
