import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import { InvalidParameterError } from "../domain/errors.js";

/** Query strings as Fastify parses them: a repeated key arrives as an array. */
export type QueryParams = Record<string, string | string[] | undefined>;

/** The `:id` route parameter. */
export function idParam(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

/** A request header's first value (Node joins most repeats; a few arrive as arrays). */
export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A query parameter given at most once. */
export function single(query: QueryParams, key: string): string | undefined {
  const value = query[key];
  if (Array.isArray(value)) throw new InvalidParameterError(key, `parameter '${key}' is given more than once`);
  return value;
}

/** Refuses query parameters the route does not know (a typo must not be ignored silently). */
export function onlyKnownKeys(query: QueryParams, known: ReadonlySet<string>): void {
  for (const key of Object.keys(query)) {
    if (!known.has(key)) throw new InvalidParameterError(key, `unknown parameter '${key}'`);
  }
}

/** The path (as requested) and query of a URL, as a signature covers them. */
export function signedParts(request: FastifyRequest): [string, URLSearchParams] {
  const at = request.url.indexOf("?");
  return at === -1 ? [request.url, new URLSearchParams()] : [request.url.slice(0, at), new URLSearchParams(request.url.slice(at + 1))];
}

/** A JSON body checked against its schema; the first problem is a 400 naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidParameterError(issue.path.join(".") || "body", issue.message);
  }
  return parsed.data;
}
