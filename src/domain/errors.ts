/**
 * The error catalog: every failure a caller can see has a stable snake_case code and an
 * HTTP status. Code throws `AppError` subclasses; the HTTP edge maps them in one place.
 * `message` is public; `cause` (never serialised) keeps the internal detail for logs.
 */

export const ERROR_STATUS = {
  bad_request: 400,
  invalid_parameter: 400,
  empty_body: 400,
  bad_digest: 400,
  unauthorized: 401,
  invalid_token: 401,
  token_revoked: 401,
  login_code_invalid: 401,
  forbidden: 403,
  quota_exceeded: 403,
  request_timeout: 408,
  not_found: 404,
  state_conflict: 409,
  illegal_transition: 409,
  payload_too_large: 413,
  type_not_allowed: 415,
  type_mismatch: 415,
  transform_unsupported: 415,
  range_not_satisfiable: 416,
  quarantined: 451,
  checksum_mismatch: 422,
  size_mismatch: 422,
  upload_incomplete: 409,
  url_expired: 403,
  signature_invalid: 403,
  signature_required: 403,
  undecodable_media: 422,
  document_encrypted: 422,
  pixel_limit_exceeded: 422,
  output_too_large: 422,
  render_timeout: 422,
  url_not_allowed: 422,
  fetch_failed: 422,
  fetch_timeout: 504,
  rate_limited: 429,
  recipe_limit: 429,
  internal: 500,
  overloaded: 503,
  dependency_down: 503,
  insufficient_storage: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }
}

/** A transform or query parameter that is unknown or out of range; names the parameter. */
export class InvalidParameterError extends AppError {
  constructor(parameter: string, message: string) {
    super("invalid_parameter", message, { parameter });
    this.name = "InvalidParameterError";
  }
}

/** A state change the asset state machine does not allow. Always a bug or a lost race. */
export class IllegalTransitionError extends AppError {
  constructor(from: string, to: string, assetId?: string) {
    super("illegal_transition", `asset cannot go from ${from} to ${to}`, { from, to, ...(assetId ? { assetId } : {}) });
    this.name = "IllegalTransitionError";
  }
}

export class NotFoundError extends AppError {
  constructor(what = "asset") {
    super("not_found", `${what} not found`);
    this.name = "NotFoundError";
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/**
 * A full disk or an exhausted disk quota (ENOSPC, EDQUOT) is an operational condition the
 * client sees as 507 `insufficient_storage` (DESIGN §5), never a 500; undefined for any
 * other error. The filesystem store maps its own failures with it, and the HTTP error
 * mapper uses it for local writes outside the store (temporary files of media engines).
 */
export function outOfSpaceError(e: unknown): AppError | undefined {
  const code = e instanceof Error && "code" in e ? e.code : undefined;
  if (code !== "ENOSPC" && code !== "EDQUOT") return undefined;
  return new AppError("insufficient_storage", "the store is out of space", {}, { cause: e });
}
