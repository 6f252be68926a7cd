import { WEB_IMAGE_FORMATS } from "../../domain/media-types.js";
import { FITS, MAX_DIMENSION } from "../../domain/recipe.js";
import { empty, errors, json, PUBLIC, type RouteDocs } from "./route-doc.js";
import { parameters, pathParams, type JsonSchema } from "./schema.js";

const int = (minimum: number, maximum: number, description?: string): JsonSchema => ({
  type: "integer", minimum, maximum, ...(description ? { description } : {}),
});
const flag = (description: string): JsonSchema => ({ type: "string", enum: ["0", "1", "true", "false"], description });

/** The signature and download parameters every delivery URL takes. */
const DELIVERY = {
  download: flag("1: Content-Disposition: attachment"),
  exp: "signed URLs: expiry (unix seconds)",
  sig: "signed URLs: the signature",
};

/** README "Delivery": the transform parameters of `/a/:id`. */
const TRANSFORM = parameters({
  w: int(1, MAX_DIMENSION, "width in pixels; the literal auto takes the Sec-CH-Width hint (ASSETD_CLIENT_HINTS), else sets no width"),
  h: int(1, MAX_DIMENSION, "height in pixels"),
  fit: { type: "string", enum: [...FITS], description: "cover is the default with both sides" },
  pos: "center, a side or corner (top, right top, northeast, …), entropy, attention",
  fmt: { type: "string", enum: ["auto", ...WEB_IMAGE_FORMATS], description: "auto picks AVIF, then WebP, from the Accept header, else JPEG (PNG with alpha); without fmt browser-viewable sources keep their format" },
  q: int(1, 100, "quality"),
  dpr: { type: "number", minimum: 1, maximum: 4, description: "multiplies w and h" },
  enlarge: flag("1: may be larger than the source (default 0)"),
  rotate: { type: "integer", enum: [0, 90, 180, 270], description: "after EXIF orientation" },
  flip: flag("mirror vertically"),
  flop: flag("mirror horizontally"),
  blur: { type: "number", minimum: 0.3, maximum: 100, description: "sigma" },
  sharpen: "a flag, or a sigma from 0.5 to 10",
  bg: "hex colour for padding and flattening (fff, ff000080)",
  strip: flag("1 (default): metadata removed, orientation applied, sRGB; 0 keeps EXIF, XMP, IPTC, ICC (never location)"),
  page: { type: "integer", minimum: 1, description: "PDF page or frame of a multi-page image" },
  t: { type: "number", minimum: 0, description: "video poster time in seconds (default 10 % in)" },
  crop: "x,y,w,h: a rectangle in source pixels (after EXIF orientation) kept before the resize; outside the image → 400",
  trim: "remove a uniform border before the resize: 1 (threshold 10) or a threshold 2..255; not with crop",
  brightness: { type: "number", minimum: 0, maximum: 3, description: "lightness multiplier (1: unchanged)" },
  contrast: { type: "number", minimum: 0, maximum: 3, description: "contrast around mid-grey (1: unchanged)" },
  saturation: { type: "number", minimum: 0, maximum: 3, description: "chroma multiplier (0: grey, 1: unchanged)" },
  max_bytes: int(1024, 50 * 1024 * 1024, "byte budget: the highest quality up to q that fits, else a smaller size; not with strip=0"),
  preset: "a named recipe: thumb, small, medium, large by default (ASSETD_PRESETS)",
  ...DELIVERY,
});

const RANGE_HEADERS = parameters({
  range: "bytes=… → 206 (or 416)",
  "if-none-match": "an ETag → 304",
});

const bytes = (description: string, types: string[]): JsonSchema => ({
  description,
  content: Object.fromEntries(types.map((type) => [type, { schema: { type: "string", ...(type.includes("*") ? {} : { contentMediaType: type }) } }])),
  headers: {
    ETag: { type: "string", description: "strong: the content hash or the variant's cache key" },
    "Cache-Control": { type: "string", description: "public, max-age=31536000, immutable for public assets" },
    "Accept-Ranges": { type: "string" },
  },
});

const pending = (what: string): JsonSchema => json(`${what} is being made: retry after Retry-After at Location`, {
  type: "object", additionalProperties: true,
}, { "Retry-After": { type: "string" }, Location: { type: "string" } });

const partial = { 206: empty("the requested range"), 304: empty("not modified") };
const storyboardQuery = parameters({
  n: int(1, 100, "frames (default: one per 10 s, 10 to 100)"),
  w: int(16, 640, "tile width (default 160)"),
  cols: int(1, 100, "tiles per row (default: near-square)"),
  ...DELIVERY,
});
const id = pathParams({ id: "the asset id" });

export const DELIVERY_DOCS: RouteDocs = {
  "GET /a/:id": {
    summary: "The original, or a variant with transform parameters",
    description: "Variants are rendered on demand and cached; with ASSETD_ASYNC_VARIANTS a miss answers 202 while a job renders it. HEAD answers from metadata.",
    tags: ["delivery"],
    params: id,
    querystring: TRANSFORM,
    headers: { ...RANGE_HEADERS, properties: { ...(RANGE_HEADERS.properties as object), accept: { type: "string", description: "negotiates fmt=auto" } } },
    response: {
      200: bytes("the bytes", ["*/*"]),
      202: pending("the variant"),
      ...partial,
      ...errors(400, 403, 404, 415, 416, 422, 451, 503),
    },
  },
  "GET /a/:id/hls/*": {
    summary: "HLS master playlist, rendition playlists, init and media segments (fragmented MP4)",
    description: "The first request for a ladder that does not exist yet queues the transcode and answers 202.",
    tags: ["delivery"],
    params: pathParams({ id: "the asset id", file: "master.m3u8, or a rendition playlist or segment named in it" }),
    querystring: parameters(DELIVERY),
    headers: RANGE_HEADERS,
    response: {
      200: bytes("a playlist or segment", ["application/vnd.apple.mpegurl", "video/mp4", "video/iso.segment"]),
      202: pending("the ladder"),
      ...partial,
      ...errors(403, 404, 415, 503),
    },
  },
  "GET /a/:id/dash/*": {
    summary: "MPEG-DASH manifest of the video's ladder",
    description: "A static MPD whose segment URLs are the HLS ladder's files (../hls/<rung>/...). Only manifest.mpd is served here. The first request for a ladder that does not exist yet queues the transcode and answers 202.",
    tags: ["delivery"],
    params: pathParams({ id: "the asset id", file: "manifest.mpd" }),
    querystring: parameters(DELIVERY),
    headers: RANGE_HEADERS,
    response: {
      200: bytes("the MPD", ["application/dash+xml"]),
      202: pending("the ladder"),
      ...partial,
      ...errors(403, 404, 415, 503),
    },
  },
  "GET /a/:id/storyboard.jpg": {
    summary: "A video's storyboard sprite", tags: ["delivery"], params: id, querystring: storyboardQuery, headers: RANGE_HEADERS,
    response: { 200: bytes("the sprite", ["image/jpeg"]), ...partial, ...errors(400, 403, 404, 415, 422, 503) },
  },
  "GET /a/:id/storyboard.vtt": {
    summary: "A video's storyboard as a WebVTT thumbnail track", tags: ["delivery"], params: id, querystring: storyboardQuery, headers: RANGE_HEADERS,
    response: { 200: bytes("cues storyboard.jpg#xywh=x,y,w,h", ["text/vtt"]), ...partial, ...errors(400, 403, 404, 415, 422, 503) },
  },
};

const tusHeaders = (extra: Record<string, string>) => parameters({ "tus-resumable": "1.0.0", ...extra });
const tusId = pathParams({ id: "the upload id (the asset id)" });

export const TUS_DOCS: RouteDocs = {
  "OPTIONS /v1/tus": { summary: "tus discovery and CORS preflight", tags: ["tus"], security: PUBLIC, response: { 204: empty("Tus-Version, Tus-Extension, Tus-Max-Size") } },
  "OPTIONS /v1/tus/:id": { summary: "CORS preflight", tags: ["tus"], security: PUBLIC, params: tusId, response: { 204: empty("allowed") } },
  "POST /v1/tus": {
    summary: "Create a resumable upload (tus creation, creation-with-upload)",
    description: "Upload-Metadata: filename, filetype, optional public, tags (JSON), sha256.",
    tags: ["tus"],
    headers: { ...tusHeaders({ "upload-length": "the size in bytes", "upload-metadata": "tus metadata" }), required: ["upload-length"] },
    body: { content: { "application/offset+octet-stream": { schema: { type: "string", description: "optional: the first bytes" } } } },
    optionalBody: true,
    response: { 201: empty("created", { Location: { type: "string" }, "Upload-Offset": { type: "string" } }), ...errors(400, 403, 413, 415) },
  },
  "HEAD /v1/tus/:id": {
    summary: "The offset of a resumable upload", tags: ["tus"], params: tusId, headers: tusHeaders({}),
    response: { 200: empty("Upload-Offset, Upload-Length", { "Upload-Offset": { type: "string" } }), ...errors(404) },
  },
  "PATCH /v1/tus/:id": {
    summary: "Append bytes to a resumable upload", description: "The last PATCH ingests the upload and answers Asset-Id and Asset-Status.",
    tags: ["tus"], params: tusId, headers: tusHeaders({ "upload-offset": "where these bytes start" }),
    body: { content: { "application/offset+octet-stream": { schema: { type: "string" } } } },
    response: { 204: empty("appended", { "Upload-Offset": { type: "string" }, "Asset-Id": { type: "string" }, "Asset-Status": { type: "string" } }), ...errors(403, 404, 409, 413, 415, 422) },
  },
  "DELETE /v1/tus/:id": {
    summary: "Terminate a resumable upload", tags: ["tus"], params: tusId, headers: tusHeaders({}),
    response: { 204: empty("terminated"), ...errors(404) },
  },
};

export const SERVICE_DOCS: RouteDocs = {
  "GET /healthz": { summary: "Liveness", tags: ["service"], security: PUBLIC, response: { 200: json("alive", { type: "object", properties: { status: { const: "ok" } } }) } },
  "GET /readyz": {
    summary: "Readiness of the database, store and queue", description: "Error texts, engine and media tools for admins only.", tags: ["service"],
    response: {
      200: json("ready", { type: "object", properties: { status: { const: "ready" }, checks: { type: "object" } }, additionalProperties: true }),
      503: json("not ready", { type: "object", properties: { status: { const: "unavailable" }, checks: { type: "object" } }, additionalProperties: true }),
    },
  },
  "GET /metrics": {
    summary: "Prometheus metrics", description: "Needs the ASSETD_METRICS_TOKEN bearer token when one is set.", tags: ["service"],
    security: [{ metricsToken: [] }, {}],
    response: { 200: { description: "the text exposition format", content: { "text/plain": { schema: { type: "string" } } } }, ...errors(401) },
  },
};
