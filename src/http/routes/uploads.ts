import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { z } from "zod";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { Capabilities } from "../../domain/capabilities.js";
import type { UploadService } from "../../services/uploads.js";
import { baseUrlOf, manifestFor, type ManifestDeps } from "../manifest.js";
import { requirePrincipal } from "../auth.js";
import { parseBody } from "../params.js";

export interface UploadRouteDeps extends ManifestDeps {
  uploads: UploadService;
  capabilities: Capabilities;
}

export const openSchema = z.object({
  filename: z.string().min(1).max(1024),
  contentType: z.string().min(1).max(255),
  size: z.number().int(),
  sha256: z.string().optional(),
  tags: z.record(z.string().min(1).max(128), z.string().max(1024)).optional(),
  public: z.boolean().optional(),
  multipart: z.boolean().optional(),
}).strict();

export const completeSchema = z.object({
  parts: z.array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(256) }).strict()).max(10_000).optional(),
}).strict();

/**
 * Direct-to-storage uploads (DESIGN §5): open a session, send the bytes to the URLs it
 * returns (S3 presigned, or this service's signed `PUT /v1/uploads/:id/data|parts/:n`),
 * then complete. Also `GET /v1/capabilities`, which tells clients which paths exist.
 */
export async function uploadRoutes(app: FastifyInstance, deps: UploadRouteDeps): Promise<void> {
  const baseUrl = (request: FastifyRequest) => baseUrlOf(deps, request);
  const manifest = (request: FastifyRequest, asset: Parameters<typeof manifestFor>[2]) => manifestFor(deps, request, asset);

  app.get("/v1/capabilities", async () => deps.capabilities);

  app.post("/v1/uploads", async (request, reply) => {
    requirePrincipal(request.caller);
    const input = parseBody(openSchema, request.body);
    const { asset, upload } = await deps.uploads.open(request.caller, input, { baseUrl: baseUrl(request) });
    return reply.code(201).header("Location", `/v1/uploads/${asset.id}`).send({ asset: manifest(request, asset), upload });
  });

  app.get("/v1/uploads/:id", async (request) => {
    requirePrincipal(request.caller);
    const state = await deps.uploads.describe(request.caller, idParam(request), baseUrl(request));
    return { ...state, asset: manifest(request, state.asset) };
  });

  app.post("/v1/uploads/:id/complete", async (request) => {
    requirePrincipal(request.caller);
    const { parts } = parseBody(completeSchema, request.body);
    const asset = await deps.uploads.complete(request.caller, idParam(request), parts);
    return manifest(request, asset);
  });

  app.delete("/v1/uploads/:id", async (request, reply) => {
    requirePrincipal(request.caller);
    await deps.uploads.abort(request.caller, idParam(request));
    return reply.code(204).send();
  });

  // The signed PUT targets take raw bytes of any type: the handler streams them.
  await app.register(async (bytes) => {
    bytes.removeAllContentTypeParsers();
    bytes.addContentTypeParser("*", (_request, _payload, done) => done(null));

    const put = async (request: FastifyRequest, target: "data" | number) => {
      const token = (request.query as Record<string, unknown>).token;
      if (typeof token !== "string") throw new AppError("signature_invalid", "this URL needs its token parameter");
      const controller = new AbortController();
      request.raw.once("close", () => { if (!request.raw.complete) controller.abort(); });
      return deps.uploads.acceptBytes({
        assetId: idParam(request), target, token,
        contentType: request.headers["content-type"],
        body: request.raw as Readable,
        signal: controller.signal,
      });
    };

    bytes.put("/v1/uploads/:id/data", async (request, reply) => {
      const { etag } = await put(request, "data");
      return reply.header("ETag", etag).code(200).send();
    });

    bytes.put("/v1/uploads/:id/parts/:n", async (request, reply) => {
      const n = (request.params as { n: string }).n;
      if (!/^\d{1,5}$/.test(n) || Number(n) < 1) throw new InvalidParameterError("part", "part numbers are whole numbers from 1");
      const { etag } = await put(request, Number(n));
      return reply.header("ETag", etag).code(200).send();
    });
  });
}

function idParam(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}
