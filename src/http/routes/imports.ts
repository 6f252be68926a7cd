import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { InvalidParameterError } from "../../domain/errors.js";
import type { ImportService } from "../../services/imports.js";
import { requirePrincipal } from "../auth.js";
import { manifestFor, type ManifestDeps } from "../manifest.js";

export interface ImportRouteDeps extends ManifestDeps {
  imports: ImportService;
}

export const importSchema = z.object({
  url: z.string().min(1).max(8192),
  filename: z.string().min(1).max(1024).optional(),
  tags: z.record(z.string().min(1).max(128), z.string().max(1024)).optional(),
  public: z.boolean().optional(),
}).strict();

/** `POST /v1/imports {url, filename?, tags?, public?}` → 201 manifest (DESIGN §10 "URL ingest"). */
export async function importRoutes(app: FastifyInstance, deps: ImportRouteDeps): Promise<void> {
  app.post("/v1/imports", async (request, reply) => {
    const owner = requirePrincipal(request.caller).sub;
    const parsed = importSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidParameterError(issue.path.join(".") || "body", issue.message);
    }
    const body = parsed.data;
    const asset = await deps.imports.importUrl({
      owner, url: body.url, filename: body.filename, tags: body.tags ?? {}, public: body.public ?? false,
    });
    return reply.code(201).header("Location", `/v1/assets/${asset.id}`).send(manifestFor(deps, request, asset));
  });
}
