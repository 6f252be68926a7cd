import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AppError, isAppError, type ErrorCode } from "../domain/errors.js";

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
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === "ENOSPC" || errno === "EDQUOT") return new AppError("insufficient_storage", "the store is out of space");
  return undefined;
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // A request refused before its body was read (413, 415, 401 on upload...): close the
  // connection after answering rather than reading and discarding the rest of the body.
  if (!request.raw.complete) reply.header("Connection", "close");
  const known = toAppError(error);
  if (known) {
    if (known.status >= 500) request.log.warn({ err: error }, known.message);
    return sendError(reply, known);
  }
  request.log.error({ err: error }, "unhandled error");
  return sendError(reply, new AppError("internal", "internal error"));
}
