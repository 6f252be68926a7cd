import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AppError, isAppError, outOfSpaceError, type ErrorCode } from "../domain/errors.js";

/**
 * The one place where failures become HTTP responses:
 * `{"error":{"code","message",...details}}` with the catalog's status. Unknown errors are
 * logged with their detail and answered with a generic 500.
 */
export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.code === "overloaded" || error.code === "rate_limited") {
    reply.header("Retry-After", String(error.details.retryAfter ?? 1));
  }
  return reply.code(error.status).type("application/json").send({
    error: { code: error.code, message: error.message, ...error.details },
  });
}

/** Fastify's own errors (body parsing, limits) mapped onto our catalog. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "type_not_allowed",
  FST_ERR_CTP_EMPTY_JSON_BODY: "bad_request",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_VALIDATION: "invalid_parameter",
  FST_PARTS_LIMIT: "bad_request",
  FST_FILES_LIMIT: "bad_request",
  FST_FIELDS_LIMIT: "bad_request",
  FST_REQ_FILE_TOO_LARGE: "payload_too_large",
  FST_INVALID_MULTIPART_CONTENT_TYPE: "bad_request",
  FST_PROTO_VIOLATION: "bad_request",
};

export function toAppError(error: unknown): AppError | undefined {
  if (isAppError(error)) return error;
  const fastifyError = error as Partial<FastifyError> | undefined;
  const code = fastifyError?.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (code) return new AppError(code, fastifyError?.message ?? code);
  if (error instanceof SyntaxError && fastifyError?.statusCode === 400) {
    return new AppError("bad_request", "the request body is not valid JSON");
  }
  return outOfSpaceError(error);
}

/**
 * A request refused before its body was read (quota, 413, 415, 401 on an upload): a client
 * still writing the body would see its connection reset (EPIPE) before it reads the answer.
 * Small bodies are read and discarded first, like a web server's lingering close; beyond
 * these bounds the connection is closed after answering instead.
 */
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
const DRAIN_MAX_MS = 2_000;

async function drainBody(request: FastifyRequest): Promise<boolean> {
  const raw = request.raw;
  if (raw.complete) return true;
  const declared = Number(raw.headers["content-length"] ?? NaN);
  if (raw.destroyed || !(declared <= DRAIN_MAX_BYTES)) return false;
  return new Promise<boolean>((resolve) => {
    let seen = 0;
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      raw.off("data", count);
      raw.off("end", ended);
      raw.off("error", failed);
      raw.off("close", failed);
      resolve(drained);
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_MAX_BYTES) finish(false);
    };
    const ended = () => finish(true);
    const failed = () => finish(false);
    const timer = setTimeout(() => finish(false), DRAIN_MAX_MS);
    raw.on("data", count);
    raw.once("end", ended);
    raw.once("error", failed);
    raw.once("close", failed);
    raw.resume();
  });
}

export async function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!(await drainBody(request))) reply.header("Connection", "close");
  const known = toAppError(error);
  if (known) {
    if (known.status >= 500) request.log.warn({ err: error }, known.message);
    return sendError(reply, known);
  }
  if (clientWentAway(request, error)) {
    // Not a fault of ours: the client cancelled (Ctrl-C, a closed tab, a timeout on its side).
    request.log.info({ code: (error as NodeJS.ErrnoException).code }, "the client closed the connection before the request finished");
    return reply.code(499).send();
  }
  request.log.error({ err: error }, "unhandled error");
  return sendError(reply, new AppError("internal", "internal error"));
}

/** The request body ended because the client closed its connection (Node's `aborted` error). */
function clientWentAway(request: FastifyRequest, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE") && (request.raw.destroyed || request.raw.socket?.destroyed === true);
}
