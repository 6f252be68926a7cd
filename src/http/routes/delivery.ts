import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../domain/errors.js";
import { contentDisposition } from "../../domain/filename.js";
import { etagMatches, parseRange } from "../../domain/http-rules.js";
import { FORMAT_CONTENT_TYPE, isActiveContent, mustDownload } from "../../domain/media-types.js";
import { hasTransform, type Query } from "../../domain/recipe.js";
import type { AssetRow } from "../../ports/repos.js";
import type { AppDeps } from "../app.js";

const IMMUTABLE = "public, max-age=31536000, immutable";
const PRIVATE = "private, max-age=3600";

/**
 * `GET|HEAD /a/:id` serves the original; with transform parameters, a variant. URLs are
 * content-derived, so public responses are cacheable forever and never purged.
 */
export async function deliveryRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // HEAD is routed explicitly so it answers from metadata without opening the bytes.
  app.route({
    method: ["GET", "HEAD"],
    url: "/a/:id",
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const query = request.query as Query;
      const download = query.download === "1" || query.download === "true";
      if (hasTransform(query)) return sendVariant(request, reply, id, query, download);
      return sendOriginal(request, reply, id, download);
    },
  });

  async function sendOriginal(request: FastifyRequest, reply: FastifyReply, id: string, download: boolean) {
    const original = await deps.delivery.original(request.caller, id);
    const etag = `"${original.sha256}"`;
    commonHeaders(reply, original.asset, etag);
    reply.header("Accept-Ranges", "bytes");
    const type = original.contentType;
    if (isActiveContent(type)) reply.header("Content-Security-Policy", "sandbox");
    if (download || mustDownload(type)) reply.header("Content-Disposition", contentDisposition("attachment", original.asset.filename));
    if (etagMatches(header(request, "if-none-match"), etag)) return reply.code(304).send();

    // If-Range with a different validator means the client's partial copy is stale.
    const ifRange = header(request, "if-range");
    const rangeHeader = ifRange === undefined || ifRange === etag ? header(request, "range") : undefined;
    const range = parseRange(rangeHeader, original.size);
    reply.type(type);
    if (range.kind === "unsatisfiable") {
      reply.header("Content-Range", `bytes */${original.size}`);
      throw new AppError("range_not_satisfiable", `the range is outside 0-${Math.max(0, original.size - 1)}`);
    }
    if (range.kind === "partial") {
      const { start, end } = range.range;
      reply.code(206).header("Content-Range", `bytes ${start}-${end}/${original.size}`).header("Content-Length", end - start + 1);
      if (request.method === "HEAD") return reply.send();
      return reply.send(await original.open(range.range));
    }
    reply.header("Content-Length", original.size);
    if (request.method === "HEAD") return reply.send();
    return reply.send(await original.open());
  }

  async function sendVariant(request: FastifyRequest, reply: FastifyReply, id: string, query: Query, download: boolean) {
    // Aborted when the client disconnects before the response is written.
    const disconnected = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) disconnected.abort();
    };
    reply.raw.once("close", onClose);
    const variant = await deps.delivery.variant(request.caller, id, query, header(request, "accept"), disconnected.signal);
    const etag = `"${variant.cacheKey}"`;
    commonHeaders(reply, variant.asset, etag);
    reply.header("Accept-Ranges", "bytes");
    if (variant.negotiated) reply.header("Vary", "Accept");
    reply.header("X-Cache", variant.cache);
    reply.header("Server-Timing", variant.cache === "HIT" ? "cache;desc=hit" : `render;dur=${variant.renderMs.toFixed(1)}`);
    if (download) {
      reply.header("Content-Disposition", contentDisposition("attachment", variantFilename(variant.asset.filename, variant.contentType)));
    }
    if (etagMatches(header(request, "if-none-match"), etag)) return reply.code(304).send();

    const size = variant.data.length;
    const ifRange = header(request, "if-range");
    const range = parseRange(ifRange === undefined || ifRange === etag ? header(request, "range") : undefined, size);
    reply.type(variant.contentType);
    if (range.kind === "unsatisfiable") {
      reply.header("Content-Range", `bytes */${size}`);
      throw new AppError("range_not_satisfiable", `the range is outside 0-${Math.max(0, size - 1)}`);
    }
    if (range.kind === "partial") {
      const { start, end } = range.range;
      reply.code(206).header("Content-Range", `bytes ${start}-${end}/${size}`).header("Content-Length", end - start + 1);
      return reply.send(request.method === "HEAD" ? undefined : variant.data.subarray(start, end + 1));
    }
    reply.header("Content-Length", size);
    return reply.send(request.method === "HEAD" ? undefined : variant.data);
  }
}

function commonHeaders(reply: FastifyReply, asset: AssetRow, etag: string): void {
  reply.header("ETag", etag);
  reply.header("Cache-Control", asset.public ? IMMUTABLE : PRIVATE);
  reply.header("X-Content-Type-Options", "nosniff");
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function variantFilename(filename: string, contentType: string): string {
  const entry = Object.entries(FORMAT_CONTENT_TYPE).find(([, type]) => type === contentType);
  const ext = entry ? (entry[0] === "jpeg" ? "jpg" : entry[0]) : "bin";
  const base = filename.replace(/\.[^.]+$/, "");
  return `${base}.${ext}`;
}
