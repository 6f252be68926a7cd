import type { AssetsApi } from "./assets.js";
import type { Transport } from "./http.js";
import type { Source } from "./input.js";
import type { ProgressTracker } from "./progress.js";
import type { SendMode } from "./send.js";
import type { Capabilities } from "./types.js";
import type { UploadOptions } from "./upload.js";
import type { UploadsApi } from "./uploads.js";

/** What the upload strategies share from the client. */
export interface UploadContext {
  http: Transport;
  assets: AssetsApi;
  uploads: UploadsApi;
  capabilities(): Promise<Capabilities>;
  sendMode: SendMode;
}

/** One call to `upload()`, normalised. */
export interface UploadJob {
  source: Source;
  options: UploadOptions;
  /** Hex, when given or computed. */
  sha256: string | undefined;
  signal: AbortSignal;
  retries: number;
  concurrency: number;
  progress: ProgressTracker;
}
