import { segment, type Transport } from "./http.js";
import type { CompletedPart, Manifest, NewUpload, PendingUpload, UploadSession } from "./types.js";

/**
 * The direct-to-storage session routes, one call each. `upload()` drives them for you;
 * these are for callers that move the bytes themselves.
 */
export interface UploadsApi {
  /** Opens a session: 413 over the size limit, 403 `quota_exceeded`, 415 for a refused type. */
  create(upload: NewUpload, options?: { signal?: AbortSignal }): Promise<UploadSession>;
  /** A pending session with fresh URLs and the parts the store already holds. */
  get(assetId: string, options?: { signal?: AbortSignal }): Promise<PendingUpload>;
  /** Idempotent. `parts` may be left out: the server then lists what the store holds. */
  complete(assetId: string, parts?: readonly CompletedPart[], options?: { signal?: AbortSignal; wait?: number }): Promise<Manifest>;
  /** Staged bytes removed, the asset deleted. */
  abort(assetId: string, options?: { signal?: AbortSignal }): Promise<void>;
}

export function uploadsApi(http: Transport): UploadsApi {
  return {
    create: (upload, options = {}) => http.json<UploadSession>("POST", "/v1/uploads", { json: upload, signal: options.signal }),
    get: (assetId, options = {}) => http.json<PendingUpload>("GET", `/v1/uploads/${segment(assetId)}`, options),
    complete: (assetId, parts, options = {}) =>
      http.json<Manifest>("POST", `/v1/uploads/${segment(assetId)}/complete`, {
        json: parts ? { parts } : {},
        signal: options.signal,
        ...(options.wait ? { headers: { prefer: `wait=${Math.round(options.wait)}` } } : {}),
      }),
    abort: (assetId, options = {}) => http.json<void>("DELETE", `/v1/uploads/${segment(assetId)}`, options),
  };
}
