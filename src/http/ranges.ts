import type { FastifyReply, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { AppError } from "../domain/errors.js";
import type { ByteRange } from "../domain/byte-range.js";
import { header } from "./params.js";

/**
 * HTTP semantics that do not need a server: byte ranges (RFC 9110 §14) and entity-tag
 * matching for If-None-Match (weak comparison, as §13.1.2 requires).
 */
export type RangeResult = { kind: "full" } | { kind: "partial"; range: ByteRange } | { kind: "unsatisfiable" };

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  // Multiple ranges or other units: serving the whole representation is allowed.
  if (!match) return { kind: "full" };
  const [, first, last] = match;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== "" && Number(last) < start)) return { kind: "unsatisfiable" };
  return { kind: "partial", range: { start, end } };
}

export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === bare);
}

/** A response body that can be sent whole or as one byte range. */
export interface RangedBody {
  /** The strong validator (quoted), also the If-Range value that lets a range through. */
  etag: string;
  size: number;
  contentType: string;
  /** The bytes, whole or the inclusive `range`; not called for HEAD or 304. */
  open(range?: ByteRange): Promise<Readable | Buffer> | Buffer;
}

/**
 * The one reply path for stored bytes (originals, variants, stream files): 304 on a
 * matching If-None-Match, one byte range (206) unless If-Range names another validator,
 * 416 for a range outside the body, else the whole body. HEAD gets the same headers.
 */
export async function sendRanged(request: FastifyRequest, reply: FastifyReply, body: RangedBody): Promise<FastifyReply> {
  reply.header("ETag", body.etag).header("Accept-Ranges", "bytes");
  if (etagMatches(header(request, "if-none-match"), body.etag)) return reply.code(304).send();

  // If-Range with a different validator means the client's partial copy is stale.
  const ifRange = header(request, "if-range");
  const range = parseRange(ifRange === undefined || ifRange === body.etag ? header(request, "range") : undefined, body.size);
  reply.type(body.contentType);
  if (range.kind === "unsatisfiable") {
    reply.header("Content-Range", `bytes */${body.size}`);
    throw new AppError("range_not_satisfiable", `the range is outside 0-${Math.max(0, body.size - 1)}`);
  }
  const head = request.method === "HEAD";
  if (range.kind === "partial") {
    const { start, end } = range.range;
    reply.code(206).header("Content-Range", `bytes ${start}-${end}/${body.size}`).header("Content-Length", end - start + 1);
    return reply.send(head ? undefined : await body.open(range.range));
  }
  reply.header("Content-Length", body.size);
  return reply.send(head ? undefined : await body.open());
}
