import { ASSET_KINDS } from "../../domain/media-types.js";
import { ASSET_STATUSES } from "../../domain/states.js";
import { SIMILAR_DEFAULTS, SIMILAR_LIMITS } from "../../services/similar.js";
import { patchSchema } from "../routes/assets.js";
import { importSchema } from "../routes/imports.js";
import { completeSchema, openSchema } from "../routes/uploads.js";
import { empty, errors, items, json, jsonBody, LOCATION, object, type RouteDocs } from "./route-doc.js";
import { jsonOf, parameters, pathParams, ref } from "./schema.js";

const id = pathParams({ id: "the asset id" });
const manifest = ref("Manifest");

const uploadQuery = parameters({
  filename: "raw body: the filename (else Content-Disposition)",
  public: { type: "string", enum: ["true", "false", "1", "0"], description: "raw body: readable by anyone" },
  tags: "raw body: a JSON object of string tags",
  eager: "variants to render once ready: URL-encoded transform queries separated by |",
});

const uploadHeaders = parameters({
  "content-digest": "sha-256=:<base64>: — verified; a mismatch is 422 checksum_mismatch and nothing is kept",
  prefer: "wait=N: hold the answer up to N (≤ 60) seconds until the asset is ready or failed",
});

const listQuery = parameters({
  status: { type: "string", enum: [...ASSET_STATUSES] },
  type: { type: "string", enum: [...ASSET_KINDS] },
  tag: { type: "array", items: { type: "string" }, description: "key:value, repeatable; every pair must match" },
  owner: "an owner's principal (admins)",
  q: "the filename contains",
  createdAfter: "ISO 8601 time or unix seconds",
  createdBefore: "ISO 8601 time or unix seconds",
  limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  cursor: "the `next` of the previous page",
});

export const ASSET_DOCS: RouteDocs = {
  "POST /v1/assets": {
    summary: "Upload an asset (streaming)",
    description: "A raw body (the type is sniffed from the bytes, the declared one checked) or multipart/form-data with one `file` field; `tags`, `public` and `eager` (a JSON array of transform queries, before `file`) may be form fields.",
    tags: ["assets"],
    querystring: uploadQuery,
    headers: uploadHeaders,
    body: {
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            properties: {
              file: { type: "string", contentMediaType: "application/octet-stream", description: "the file, exactly one" },
              tags: { type: "string", description: "a JSON object of string tags" },
              public: { type: "string", enum: ["true", "false", "1", "0"] },
              eager: { type: "string", description: "a JSON array of transform queries, sent before `file`" },
            },
            required: ["file"],
          },
        },
        "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } },
        "*/*": { schema: { type: "string", description: "any type: raw bytes" } },
      },
    },
    response: {
      201: json("the new asset", manifest, { ...LOCATION, "Preference-Applied": { type: "string", description: "wait=N when Prefer was honoured" } }),
      ...errors(400, 403, 413, 415, 422, 451, 503, 507),
    },
  },
  "GET /v1/assets": {
    summary: "List visible assets, newest first",
    tags: ["assets"],
    querystring: listQuery,
    response: {
      200: json("a page", items(manifest, { next: { type: ["string", "null"] }, quota: ref("Quota") })),
      ...errors(400),
    },
  },
  "GET /v1/assets/:id": {
    summary: "An asset's manifest",
    tags: ["assets"],
    params: id,
    response: { 200: json("the manifest", manifest), ...errors(404) },
  },
  "PATCH /v1/assets/:id": {
    summary: "Rename, publish or tag an asset",
    description: "A tag set to null is removed.",
    tags: ["assets"],
    params: id,
    body: jsonBody(jsonOf(patchSchema)),
    optionalBody: true,
    response: { 200: json("the changed manifest", manifest), ...errors(400, 403, 404, 409) },
  },
  "DELETE /v1/assets/:id": {
    summary: "Move an asset to the trash (or purge it)",
    tags: ["assets"],
    params: id,
    querystring: parameters({ purge: { type: "string", enum: ["true", "false"], description: "skip the trash" } }),
    response: { 204: empty("deleted"), ...errors(400, 403, 404) },
  },
  "POST /v1/assets/:id/restore": {
    summary: "Restore an asset from the trash",
    tags: ["assets"],
    params: id,
    response: { 200: json("the restored manifest", manifest), ...errors(403, 404, 409) },
  },
  "GET /v1/assets/:id/events": {
    summary: "An asset's state history",
    tags: ["assets"],
    params: id,
    response: { 200: json("the transitions, oldest first", items(ref("AssetEvent"))), ...errors(404) },
  },
  "GET /v1/assets/:id/similar": {
    summary: "Visible near-duplicates, closest first",
    tags: ["assets"],
    params: id,
    querystring: parameters({
      maxDistance: { type: "integer", minimum: 0, maximum: SIMILAR_LIMITS.maxDistance, default: SIMILAR_DEFAULTS.maxDistance, description: "Hamming distance over the 64-bit perceptual hash" },
      limit: { type: "integer", minimum: 1, maximum: SIMILAR_LIMITS.limit, default: SIMILAR_DEFAULTS.limit },
    }),
    response: {
      200: json("matches", items({ type: "object", properties: { distance: { type: "integer" }, asset: manifest } }, {
        reason: { type: "object", properties: { code: { type: "string", enum: ["not_ready", "no_phash"] }, message: { type: "string" } } },
      })),
      ...errors(400, 404),
    },
  },
  "GET /v1/assets/:id/variants": {
    summary: "Stored variants and intermediate rungs, with their parent",
    tags: ["assets"],
    params: id,
    response: { 200: json("the variants", object("{items: [...]}")), ...errors(403, 404) },
  },
  "POST /v1/imports": {
    summary: "Import a remote file by URL",
    description: "The fetch refuses private, loopback, link-local and metadata addresses (422 url_not_allowed) unless ASSETD_FETCH_ALLOW allows the host.",
    tags: ["imports"],
    body: jsonBody(jsonOf(importSchema)),
    response: { 201: json("the new asset", manifest, LOCATION), ...errors(400, 403, 413, 415, 422, 503, 507) },
  },
  "GET /v1/capabilities": {
    summary: "Upload limits and paths",
    tags: ["uploads"],
    response: { 200: json("the capabilities", ref("Capabilities")), ...errors() },
  },
  "POST /v1/uploads": {
    summary: "Open a direct-to-storage upload",
    description: "Size, type and quota are checked before any byte moves; the size is reserved against the quota.",
    tags: ["uploads"],
    body: jsonBody(jsonOf(openSchema)),
    response: { 201: json("the pending asset and where to send its bytes", ref("UploadSession"), LOCATION), ...errors(400, 403, 413, 415) },
  },
  "GET /v1/uploads/:id": {
    summary: "An open upload session, with fresh URLs and the parts received",
    tags: ["uploads"],
    params: id,
    response: { 200: json("the session", ref("PendingUpload")), ...errors(404) },
  },
  "POST /v1/uploads/:id/complete": {
    summary: "Complete a direct upload",
    tags: ["uploads"],
    params: id,
    body: jsonBody(jsonOf(completeSchema)),
    optionalBody: true,
    response: { 200: json("the verified asset", manifest), ...errors(400, 404, 409, 422) },
  },
  "DELETE /v1/uploads/:id": {
    summary: "Abort an upload session",
    tags: ["uploads"],
    params: id,
    response: { 204: empty("aborted, quota released"), ...errors(404) },
  },
  "PUT /v1/uploads/:id/data": {
    summary: "Send the bytes of a single-PUT upload (filesystem store)",
    description: "Authorised by the `token` the session's URL carries, not by a bearer token.",
    tags: ["uploads"],
    security: [],
    params: id,
    querystring: { ...parameters({ token: "the grant from the session's URL" }), required: ["token"] },
    body: { content: { "*/*": { schema: { type: "string", description: "the bytes, with the Content-Type the session declared" } } } },
    response: { 200: empty("stored", { ETag: { type: "string" } }), ...errors(403, 404, 413) },
  },
  "PUT /v1/uploads/:id/parts/:n": {
    summary: "Send one part of a multipart upload (filesystem store)",
    tags: ["uploads"],
    security: [],
    params: pathParams({ id: "the asset id", n: "the part number, from 1" }),
    querystring: { ...parameters({ token: "the grant from the part's URL" }), required: ["token"] },
    body: { content: { "*/*": { schema: { type: "string", description: "the part's bytes" } } } },
    response: { 200: empty("stored", { ETag: { type: "string" } }), ...errors(400, 403, 404, 413) },
  },
};
