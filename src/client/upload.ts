import { checkHex, sha256Hex } from "./digest.js";
import { AssetdError } from "./errors.js";
import { toSource, type UploadInput } from "./input.js";
import { ProgressTracker, type Progress } from "./progress.js";
import type { Manifest } from "./types.js";
import type { UploadContext, UploadJob } from "./upload-context.js";
import { uploadDirect } from "./upload-direct.js";
import { uploadViaSession } from "./upload-session.js";
import { uploadTus } from "./upload-tus.js";

export type UploadMethod = "auto" | "direct" | "presigned" | "multipart" | "tus";

export interface UploadOptions {
  /** Default: the File's name, else the server's fallback. */
  filename?: string;
  /** Default: the Blob's type, else undeclared (`application/octet-stream`); the server sniffs either way. */
  contentType?: string;
  tags?: Record<string, string>;
  public?: boolean;
  /**
   * Hex SHA-256 the server checks the bytes against (422 on mismatch). `true` computes it
   * first with WebCrypto, which reads the input whole: up to 256 MiB. On the presigned
   * paths it also lets the server skip the transfer when you already hold the bytes.
   */
  sha256?: string | true;
  /** `loaded` may step back when a request is retried; the last call has `loaded === total`. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /**
   * `auto`: under 8 MiB `direct`, else a direct-to-storage session in which the server's
   * multipart threshold picks one PUT or parts (`presigned`); `multipart` asks for parts
   * whatever the size. `tus` for resumable uploads through tus-js-client.
   */
  method?: UploadMethod;
  /** Parts in flight at once (multipart). Default 4. */
  concurrency?: number;
  /** Retries per request after transient failures (network, 408, 429, 5xx). Default 3. */
  retries?: number;
  /** Seconds to wait for the asset to become ready (`Prefer: wait`, at most 60). */
  wait?: number;
  /** tus only: bytes per PATCH request. Default 8 MiB. */
  chunkSize?: number;
}

/** Below this, one streaming POST beats a session's three round trips. */
export const DIRECT_BELOW = 8 * 1024 * 1024;

export type Upload = (input: UploadInput, options?: UploadOptions) => Promise<Manifest>;

export function createUpload(ctx: UploadContext): Upload {
  return async (input, options = {}) => {
    const source = toSource(input, options);
    const signal = options.signal ?? new AbortController().signal;
    signal.throwIfAborted();
    const sha256 = options.sha256 === true ? await sha256Hex(source.blob) : options.sha256 === undefined ? undefined : checkHex(options.sha256);
    const job: UploadJob = {
      source, options, sha256, signal,
      retries: nonNegative(options.retries ?? 3, "retries"),
      concurrency: Math.max(1, nonNegative(options.concurrency ?? 4, "concurrency")),
      progress: new ProgressTracker(source.size, options.onProgress),
    };
    const manifest = await run(ctx, job, await chooseMethod(ctx, job));
    job.progress.finish();
    return manifest;
  };
}

function run(ctx: UploadContext, job: UploadJob, method: Exclude<UploadMethod, "auto">): Promise<Manifest> {
  switch (method) {
    case "direct":
      return uploadDirect(ctx, job);
    case "presigned":
    case "multipart":
      return uploadViaSession(ctx, job);
    case "tus":
      return uploadTus(ctx, job);
  }
}

async function chooseMethod(ctx: UploadContext, job: UploadJob): Promise<Exclude<UploadMethod, "auto">> {
  const method = job.options.method ?? "auto";
  if (method !== "auto") return method;
  if (job.source.size < DIRECT_BELOW) return "direct";
  try {
    await ctx.capabilities();
    return "presigned";
  } catch (error) {
    // A server without upload sessions: stream it through the API.
    if (error instanceof AssetdError && error.status === 404) return "direct";
    throw error;
  }
}

function nonNegative(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}
