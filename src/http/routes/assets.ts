import multipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { z } from "zod";
import type { AssetFilter, AssetRow } from "../../domain/asset.js";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import { sanitiseFilename } from "../../domain/filename.js";
import { ASSET_KINDS, declaredType, type AssetKind } from "../../domain/media-types.js";
import { isAssetStatus } from "../../domain/states.js";
import { checkTagFilters } from "../../domain/tags.js";
import type { AssetService } from "../../services/assets.js";
import type { DeliveryService } from "../../services/deliver.js";
import { parseEager } from "../../domain/eager.js";
import type { HlsService } from "../../services/hls.js";
import type { IngestInput, IngestService } from "../../services/ingest.js";
import { toEvent } from "../../services/manifest.js";
import type { QuotaService } from "../../services/quotas.js";
import { requirePrincipal } from "../auth.js";
import { filenameFromDisposition, parseContentDigest } from "../headers.js";
import { manifestFor, type ManifestDeps } from "../manifest.js";
import { isOwnerView } from "../../domain/access.js";
import type { StoreCareService } from "../../services/store-care.js";
import { header, idParam, onlyKnownKeys, single, type QueryParams } from "../params.js";

export interface AssetRouteDeps extends ManifestDeps {
  /** `plan` checks eager recipes as delivery would. */
  delivery: Pick<DeliveryService, "canTransform" | "presetNames" | "plan">;
  maxUploadBytes: number;
  ingest: Pick<IngestService, "ingest">;
  assets: Pick<AssetService, "find" | "list" | "patch" | "events" | "remove" | "restore" | "waitSettled">;
  hls: Pick<HlsService, "statusOf">;
  quotas: Pick<QuotaService, "of">;
  /** The tier and replica state of content, shown to its owner (and admins) on a single asset. */
  placementOf?: StoreCareService["placementOf"];
}

const MAX_WAIT_SECONDS = 60;

export const tagsSchema = z.record(z.string().min(1).max(128), z.string().max(1024));
export const patchSchema = z.object({
  filename: z.string().min(1).max(1024).optional(),
  public: z.boolean().optional(),
  tags: z.record(z.string().min(1).max(128), z.string().max(1024).nullable()).optional(),
}).strict();

export async function assetRoutes(app: FastifyInstance, deps: AssetRouteDeps): Promise<void> {
  const manifest = (request: FastifyRequest, asset: AssetRow) => manifestFor(deps, request, asset);

  // Uploads live in their own context: every body is streamed by the handler, never parsed.
  await app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser("*", (_request, _payload, done) => done(null));
    await uploads.register(multipart, {
      limits: { fileSize: deps.maxUploadBytes + 1, files: 1, fields: 20, fieldSize: 64 * 1024 },
    });

    uploads.post("/v1/assets", async (request, reply) => {
      const owner = requirePrincipal(request.caller).sub;
      const length = Number(request.headers["content-length"] ?? NaN);
      if (length > deps.maxUploadBytes) {
        throw new AppError("payload_too_large", `the body exceeds the upload limit of ${deps.maxUploadBytes} bytes`, { limit: deps.maxUploadBytes });
      }
      const expectedSha256 = parseContentDigest(header(request, "content-digest"));
      const query = request.query as QueryParams;
      const eager = eagerOf(single(query, "eager"), "list");
      // Whether these bytes were already stored: the console tells "new" from "deduplicated".
      const onStored = ({ deduplicated }: { deduplicated: boolean }) => void reply.header("Asset-Deduplicated", String(deduplicated));
      const asset = request.isMultipart()
        ? await ingestMultipart(request, owner, expectedSha256, eager, onStored)
        : await deps.ingest.ingest({
          body: request.raw as Readable,
          owner,
          filename: sanitiseFilename(single(query, "filename") ?? filenameFromDisposition(header(request, "content-disposition"))),
          declaredType: declaredType(request.headers["content-type"],
            single(query, "filename") ?? filenameFromDisposition(header(request, "content-disposition"))),
          expectedSha256,
          ...(Number.isSafeInteger(length) && length > 0 ? { declaredSize: length } : {}),
          public: parseBool(single(query, "public"), "public"),
          tags: parseTags(single(query, "tags")),
          eager,
          onStored,
        });
      const final = await waitIfPreferred(request, reply, asset);
      return reply.code(201).header("Location", `/v1/assets/${final.id}`).send(manifest(request, final));
    });
  });

  /** Eager variants: each recipe checked as delivery would check it, before any byte is read. */
  const eagerOf = (value: string | undefined, shape: "list" | "json") =>
    parseEager(value, shape, (recipe) => void deps.delivery.plan(recipe, undefined));

  async function ingestMultipart(request: FastifyRequest, owner: string, expectedSha256: string | undefined, queryEager: string[], onStored: IngestInput["onStored"]): Promise<AssetRow> {
    const fields: Record<string, string> = {};
    let asset: AssetRow | undefined;
    for await (const part of request.parts()) {
      if (part.type === "field") {
        fields[part.fieldname] = String(part.value);
        // Eager variants are queued with the asset's first job, which starts with the file.
        if (part.fieldname === "eager" && asset) {
          await deps.assets.remove(request.caller, asset.id, { purge: true });
          throw new InvalidParameterError("eager", "send the form field 'eager' before the file");
        }
        continue;
      }
      if (part.fieldname !== "file" || asset) {
        part.file.resume();
        if (asset) await deps.assets.remove(request.caller, asset.id, { purge: true });
        throw new AppError("bad_request", "send exactly one file, in the form field 'file'");
      }
      asset = await deps.ingest.ingest({
        body: part.file,
        owner,
        filename: sanitiseFilename(part.filename),
        declaredType: declaredType(part.mimetype, part.filename),
        expectedSha256,
        public: parseBool(fields.public, "public"),
        tags: parseTags(fields.tags),
        eager: [...new Set([...queryEager, ...eagerOf(fields.eager, "json")])],
        onStored,
      });
    }
    if (!asset) throw new AppError("empty_body", "the form has no 'file' field");
    // Fields sent after the file still apply.
    const late = { public: fields.public, tags: fields.tags };
    if ((late.public !== undefined && parseBool(late.public, "public") !== asset.public) || late.tags !== undefined) {
      const tags = parseTags(late.tags);
      const changed = await deps.assets.patch(request.caller, asset.id, {
        ...(late.public !== undefined ? { public: parseBool(late.public, "public") } : {}),
        ...(Object.keys(tags).length ? { tags } : {}),
      });
      asset = changed;
    }
    return asset;
  }

  /** `Prefer: wait=N` (RFC 7240): hold the response until the asset settles or N seconds pass. */
  async function waitIfPreferred(request: FastifyRequest, reply: FastifyReply, asset: AssetRow): Promise<AssetRow> {
    const match = /(?:^|[,;\s])wait\s*=\s*(\d+)/i.exec(header(request, "prefer") ?? "");
    if (!match) return asset;
    const seconds = Math.min(Number(match[1]), MAX_WAIT_SECONDS);
    reply.header("Preference-Applied", `wait=${seconds}`);
    return deps.assets.waitSettled(asset, Date.now() + seconds * 1000);
  }

  app.get("/v1/assets/:id", async (request) => {
    const asset = await deps.assets.find(request.caller, idParam(request));
    const placement = deps.placementOf && asset.blobSha256 && isOwnerView(request.caller, asset) ? await deps.placementOf(asset.blobSha256) : undefined;
    const shown = { ...manifest(request, asset), ...(placement ? { storage: placement } : {}) };
    // A video's stream: none yet, transcoding, ready or failed (one store lookup, single asset only).
    if (asset.kind === "video" && asset.status === "ready" && asset.blobSha256) {
      const hls = await deps.hls.statusOf({ ...asset, blobSha256: asset.blobSha256 });
      return { ...shown, streaming: { hls: hls === "missing" ? "none" : hls } };
    }
    return shown;
  });

  app.get("/v1/assets/:id/events", async (request) => {
    const events = await deps.assets.events(request.caller, idParam(request));
    return { items: events.map(toEvent) };
  });

  app.get("/v1/assets", async (request) => {
    const query = request.query as QueryParams;
    const { filter, limit, cursor } = parseListQuery(query);
    const page = await deps.assets.list(request.caller, filter, limit, cursor);
    const caller = request.caller;
    // A user sees their own storage quota next to their assets.
    const quota = caller && !caller.admin ? await deps.quotas.of(caller.sub) : undefined;
    return { items: page.items.map((asset) => manifest(request, asset)), next: page.next, ...(quota ? { quota } : {}) };
  });

  app.patch("/v1/assets/:id", async (request) => {
    requirePrincipal(request.caller);
    const parsed = patchSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidParameterError(issue.path.join(".") || "body", issue.message);
    }
    const { filename, ...rest } = parsed.data;
    const asset = await deps.assets.patch(request.caller, idParam(request), {
      ...rest, ...(filename !== undefined ? { filename: sanitiseFilename(filename) } : {}),
    });
    return manifest(request, asset);
  });

  /** Into the trash (restorable for ASSETD_TRASH_TTL); `?purge=true` skips it (or empties it for this asset). */
  app.delete("/v1/assets/:id", async (request, reply) => {
    requirePrincipal(request.caller);
    const purge = (request.query as Record<string, unknown>).purge;
    if (purge !== undefined && purge !== "true" && purge !== "false") throw new InvalidParameterError("purge", "purge must be true or false");
    await deps.assets.remove(request.caller, idParam(request), { purge: purge === "true" });
    return reply.code(204).send();
  });

  /** Back from the trash, with the status it had before the delete. */
  app.post("/v1/assets/:id/restore", async (request) => {
    requirePrincipal(request.caller);
    return manifest(request, await deps.assets.restore(request.caller, idParam(request)));
  });
}

function parseBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "" || value === "0" || value === "false") return false;
  if (value === "1" || value === "true") return true;
  throw new InvalidParameterError(name, `${name} must be true or false`);
}

function parseTags(value: string | undefined): Record<string, string> {
  if (value === undefined || value === "") return {};
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new InvalidParameterError("tags", "tags must be a JSON object of strings");
  }
  const parsed = tagsSchema.safeParse(json);
  if (!parsed.success) throw new InvalidParameterError("tags", "tags must be a JSON object of strings");
  return parsed.data;
}

const LIST_KEYS = new Set(["status", "type", "tag", "owner", "q", "createdAfter", "createdBefore", "limit", "cursor"]);

function parseListQuery(query: QueryParams) {
  onlyKnownKeys(query, LIST_KEYS);
  const filter: AssetFilter = {};
  const status = single(query, "status");
  if (status !== undefined) {
    if (!isAssetStatus(status)) throw new InvalidParameterError("status", "unknown status");
    filter.status = status;
  }
  const type = single(query, "type");
  if (type !== undefined) {
    if (!(ASSET_KINDS as readonly string[]).includes(type)) {
      throw new InvalidParameterError("type", `type must be one of ${ASSET_KINDS.join(", ")}`);
    }
    filter.kind = type as AssetKind;
  }
  const tags = query.tag === undefined ? [] : Array.isArray(query.tag) ? query.tag : [query.tag];
  if (tags.length) {
    filter.tags = tags.map((t) => {
      const colon = t.indexOf(":");
      if (colon < 1) throw new InvalidParameterError("tag", "tag filters look like key:value");
      return [t.slice(0, colon), t.slice(colon + 1)] as const;
    });
    try {
      checkTagFilters(filter.tags);
    } catch (error) {
      // Named like the listing's other tag filter errors: the parameter is `tag`.
      if (error instanceof InvalidParameterError) throw new InvalidParameterError("tag", error.message);
      throw error;
    }
  }
  const owner = single(query, "owner");
  if (owner !== undefined) filter.owner = owner;
  const q = single(query, "q");
  if (q !== undefined && q !== "") filter.q = q;
  const after = single(query, "createdAfter");
  if (after !== undefined) filter.createdAfter = parseTime(after, "createdAfter");
  const before = single(query, "createdBefore");
  if (before !== undefined) filter.createdBefore = parseTime(before, "createdBefore");
  const limitText = single(query, "limit");
  let limit = 100;
  if (limitText !== undefined) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 1000) {
      throw new InvalidParameterError("limit", "limit must be an integer from 1 to 1000");
    }
    limit = Number(limitText);
  }
  return { filter, limit, cursor: single(query, "cursor") };
}

function parseTime(value: string, name: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidParameterError(name, `${name} must be an ISO 8601 time or unix seconds`);
  return ms;
}
