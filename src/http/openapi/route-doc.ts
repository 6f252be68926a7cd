import { ref, type JsonSchema } from "./schema.js";

/** What the document says about one route: Fastify's route `schema` keys, as @fastify/swagger reads them. */
export interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  /** Omitted: the document's default (a bearer JWT, or anonymous). */
  security?: Array<Record<string, string[]>>;
  querystring?: JsonSchema;
  params?: JsonSchema;
  headers?: JsonSchema;
  body?: JsonSchema;
  /** The body may be left out (the handler reads a missing one as `{}`). */
  optionalBody?: boolean;
  response: Record<string, JsonSchema>;
}

/** Routes by `METHOD /url` as Fastify registers them. */
export type RouteDocs = Record<string, RouteDoc>;

const ERROR_TEXT: Readonly<Record<string, string>> = {
  400: "a bad parameter (invalid_parameter names it) or a malformed request",
  401: "the bearer token is invalid, expired or revoked (invalid_token, token_revoked)",
  403: "forbidden (also signature_invalid, url_expired, signature_required, quota_exceeded)",
  404: "unknown, or not visible to this caller",
  409: "a state conflict",
  413: "too large",
  415: "type not allowed, or declared type and content disagree",
  416: "the range cannot be satisfied",
  422: "checksum mismatch, undecodable media, pixel limit, render_timeout, url_not_allowed",
  429: "rate limited (Retry-After)",
  451: "quarantined by the virus scanner",
  503: "overloaded or a dependency down (Retry-After)",
  507: "the store is full",
};

/** Error answers, all `{error:{code,message}}`. 401 and 429 apply everywhere a token or the rate limit does. */
export function errors(...statuses: number[]): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const status of [...new Set([...statuses, 401, 429])].sort()) {
    out[status] = { description: ERROR_TEXT[status] ?? "an error", content: { "application/json": { schema: ref("Error") } } };
  }
  return out;
}

/** A JSON answer. */
export function json(description: string, schema: JsonSchema, headers?: Record<string, JsonSchema>): JsonSchema {
  return { description, content: { "application/json": { schema } }, ...(headers ? { headers } : {}) };
}

/** An answer without a body. */
export function empty(description: string, headers?: Record<string, JsonSchema>): JsonSchema {
  return { description, type: "null", ...(headers ? { headers } : {}) };
}

/** A JSON request body. */
export function jsonBody(schema: JsonSchema): JsonSchema {
  return { content: { "application/json": { schema } } };
}

export const LOCATION = { Location: { type: "string", description: "the new resource" } };

/** An untyped JSON object (shapes the server has no schema for). */
export const object = (description: string): JsonSchema => ({ type: "object", description, additionalProperties: true });

export const items = (schema: JsonSchema, extra: Record<string, JsonSchema> = {}): JsonSchema => ({
  type: "object", properties: { items: { type: "array", items: schema }, ...extra }, required: ["items"],
});

export const PUBLIC: Array<Record<string, string[]>> = [];
