import { AppError } from "../../domain/errors.js";

/** The fields the AWS SDK puts on service errors, and Node on system errors. */
interface ErrorFields {
  name?: unknown;
  code?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const fieldsOf = (e: unknown): ErrorFields => (typeof e === "object" && e !== null ? (e as ErrorFields) : {});

export function errorName(e: unknown): string | undefined {
  const { name } = fieldsOf(e);
  return typeof name === "string" ? name : undefined;
}

export function httpStatus(e: unknown): number | undefined {
  const status = fieldsOf(e).$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/**
 * No object at the key. GetObject answers NoSuchKey; HeadObject has no body to carry a code,
 * so the SDK names it "NotFound". A missing bucket is not a missing object: it is a broken
 * deployment and must not read as "this asset was deleted".
 */
export function isMissingObject(e: unknown): boolean {
  const name = errorName(e);
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || httpStatus(e) === 404;
}

/** An AbortMultipartUpload for an upload that is already gone (but not a missing bucket). */
export function isMissingUpload(e: unknown): boolean {
  const name = errorName(e);
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchUpload" || httpStatus(e) === 404;
}

/** Errors raised before any HTTP answer: the store cannot be reached at all. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN",
  "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "UND_ERR_SOCKET",
]);

function isNetworkError(e: unknown): boolean {
  const { code, errors } = fieldsOf(e);
  if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  // Node's happy-eyeballs connect reports one error per address tried.
  if (Array.isArray(errors)) return errors.some(isNetworkError);
  const name = errorName(e);
  return name === "TimeoutError";
}

/** The store answered, but cannot serve right now or at all (after the SDK's own retries). */
const UNAVAILABLE = new Set(["ServiceUnavailable", "SlowDown", "InternalError", "NoSuchBucket"]);
/** Credentials or signing refused: a deployment problem, not the caller's. */
const REFUSED = new Set(["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"]);
/** Out of space. Swift's s3api reports an exceeded account or container quota as EntityTooLarge. */
const FULL = new Set(["EntityTooLarge", "QuotaExceeded", "XMinioStorageFull", "InsufficientStorage"]);

/**
 * Maps an SDK failure to the error catalog: unreachable or failing store -> dependency_down
 * (503), full store -> insufficient_storage (507). Anything else (our own errors, aborts,
 * BlobNotFoundError) passes through unchanged. `cause` keeps the SDK error for the logs.
 */
export function toStoreError(e: unknown): unknown {
  if (e instanceof AppError) return e;
  const name = errorName(e);
  const status = httpStatus(e);
  if (isNetworkError(e)) {
    return new AppError("dependency_down", "the object store is unreachable", {}, { cause: e });
  }
  if ((name && FULL.has(name)) || status === 507) {
    return new AppError("insufficient_storage", "the object store is out of space", {}, { cause: e });
  }
  if ((name && UNAVAILABLE.has(name)) || status === 502 || status === 503 || status === 504) {
    return new AppError("dependency_down", "the object store is unavailable", {}, { cause: e });
  }
  if ((name && REFUSED.has(name)) || status === 401 || status === 403) {
    return new AppError("dependency_down", "the object store refused our credentials", {}, { cause: e });
  }
  return e;
}

/** Awaits `operation`, rethrowing its failure mapped by toStoreError. */
export async function mapped<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (e) {
    throw toStoreError(e);
  }
}
