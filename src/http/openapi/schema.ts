import { z } from "zod";
import { zodToJsonSchema } from "zod-to-json-schema";
import { ASSET_KINDS, type AssetKind } from "../../domain/media-types.js";
import { ASSET_STATUSES } from "../../domain/states.js";
import type { Capabilities } from "../../domain/capabilities.js";
import { PERMISSIONS } from "../../domain/grants.js";
import { WEBHOOK_EVENTS } from "../../domain/webhooks.js";
import type { Manifest } from "../../services/manifest.js";

/** A JSON Schema (2019-09, which OpenAPI 3.1's 2020-12 dialect reads unchanged). */
export type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema of a zod schema, for the document only: the route handlers keep parsing
 * with the zod schema itself, so what is documented is what is enforced.
 */
export function jsonOf(schema: z.ZodTypeAny): JsonSchema {
  const out = zodToJsonSchema(schema, { target: "jsonSchema2019-09", $refStrategy: "none" }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** A documentation-only object of optional string parameters (query strings arrive as text). */
export function parameters(fields: Record<string, string | JsonSchema>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, doc] of Object.entries(fields)) {
    properties[name] = typeof doc === "string" ? { type: "string", description: doc } : doc;
  }
  return { type: "object", properties };
}

/** Path parameters: every one is required. */
export function pathParams(fields: Record<string, string>): JsonSchema {
  return { ...parameters(fields), required: Object.keys(fields) };
}

const kinds = z.enum(ASSET_KINDS as [AssetKind, ...AssetKind[]]);
const statuses = z.enum(ASSET_STATUSES);

/** `{"error":{"code","message",...details}}` (src/http/errors.ts). */
export const errorSchema = z.object({
  error: z.object({
    code: z.string().describe("snake_case error code, e.g. invalid_parameter, not_found, quota_exceeded"),
    message: z.string().describe("what went wrong, for people"),
    parameter: z.string().optional().describe("the parameter at fault (invalid_parameter)"),
  }).passthrough().describe("further details depend on the code (limit, retryAfter, ...)"),
}).describe("An error");

/** The manifest of one asset (src/services/manifest.ts `toManifest`). */
export const manifestSchema = z.object({
  id: z.string().describe("ULID"),
  status: statuses,
  owner: z.string().optional().describe("shown to the owner and admins only"),
  filename: z.string(),
  contentType: z.string().nullable().describe("the sniffed type; null until the bytes are checked"),
  declaredType: z.string().nullable(),
  kind: kinds,
  size: z.number().int().nullable(),
  sha256: z.string().nullable(),
  public: z.boolean(),
  tags: z.record(z.string()),
  meta: z.record(z.unknown()).nullable().describe("extracted facts: width, height, format, exif, duration, ..."),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
  deletedAt: z.string().datetime().optional().describe("in the trash since"),
  urls: z.object({ original: z.string(), hls: z.string().optional(), dash: z.string().optional() }).catchall(z.string())
    .describe("the original, one URL per preset when the content can be rendered, the HLS master for videos"),
  failure: z.object({ code: z.string(), message: z.string() }).optional(),
  streaming: z.object({ hls: z.enum(["none", "transcoding", "ready", "failed"]) }).optional()
    .describe("ready videos, single-asset reads only"),
  storage: z.record(z.unknown()).optional().describe("tier and replicas of the content (owner and admins, single-asset reads)"),
}).describe("An asset manifest");

export const quotaSchema = z.object({
  owner: z.string(),
  maxBytes: z.number().int().nullable(),
  source: z.enum(["owner", "default", "unlimited"]),
  usedBytes: z.number().int(),
  reservedBytes: z.number().int(),
  availableBytes: z.number().int().nullable(),
}).describe("A storage quota");

export const grantSchema = z.object({
  principal: z.string().describe("a user id, group:<name> or * (anyone)"),
  permission: z.enum(PERMISSIONS),
}).strict();

export const eventSchema = z.object({
  from: statuses.nullable(),
  to: statuses,
  reason: z.string(),
  at: z.string().datetime(),
});

const uploadPlan = z.union([
  z.object({
    kind: z.literal("single"), method: z.literal("PUT"), url: z.string(),
    headers: z.record(z.string()).describe("send exactly these: they are part of the URL's signature"), expiresAt: z.string().datetime(),
  }),
  z.object({
    kind: z.literal("multipart"), uploadId: z.string(), partSize: z.number().int(),
    parts: z.array(z.object({ partNumber: z.number().int(), url: z.string() })), expiresAt: z.string().datetime(),
  }),
]).nullable().describe("null: nothing to send (the bytes are already held, or a tus upload)");

export const uploadSessionSchema = z.object({ asset: manifestSchema, upload: uploadPlan });

export const pendingUploadSchema = z.object({
  asset: manifestSchema,
  upload: uploadPlan,
  received: z.array(z.object({ partNumber: z.number().int(), size: z.number().int(), etag: z.string() })),
  expiresAt: z.string().datetime(),
});

export const webhookSchema = z.object({
  id: z.string(), url: z.string(), events: z.array(z.enum(WEBHOOK_EVENTS)),
  owner: z.string().describe("the owner whose events are sent, or * for every owner's"), createdAt: z.string().datetime(),
  secret: z.string().optional().describe("whsec_…, shown once, when the subscription is created"),
});

export const capabilitiesSchema = z.object({
  maxUploadBytes: z.number().int(),
  uploads: z.object({
    direct: z.enum(["store", "service"]).describe("store: presigned store URLs; service: this service's own signed URLs"),
    multipartThreshold: z.number().int(),
    partSize: z.number().int(),
    urlTtlSeconds: z.number().int(),
    sessionTtlSeconds: z.number().int(),
  }),
  tus: z.object({ endpoint: z.string(), version: z.string(), maxSize: z.number().int() }),
  allowedTypes: z.array(z.string()),
}).describe("What the upload paths allow");

/** Schemas published under components.schemas and referenced by name. */
export const COMPONENTS: Readonly<Record<string, z.ZodTypeAny>> = {
  Error: errorSchema,
  Manifest: manifestSchema,
  Quota: quotaSchema,
  Grant: grantSchema,
  AssetEvent: eventSchema,
  UploadSession: uploadSessionSchema,
  PendingUpload: pendingUploadSchema,
  Webhook: webhookSchema,
  Capabilities: capabilitiesSchema,
};

/** A reference to one of COMPONENTS, as the route documents use it. */
export const ref = (name: keyof typeof COMPONENTS & string): JsonSchema => ({ $ref: `${name}#` });

/**
 * Compile-time checks that the document's schemas match the server's own types: every
 * manifest the server builds is one the schema describes, and a value of the capabilities
 * schema is a full Capabilities.
 */
export const typeChecks = {
  // `urls` is a plain record on the server; that it has `original` is toManifest's first line.
  manifest: (m: Omit<Manifest, "urls">): Omit<z.input<typeof manifestSchema>, "urls"> => m,
  capabilities: (c: z.infer<typeof capabilitiesSchema>): Capabilities => c,
};
