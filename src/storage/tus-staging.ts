import type { DataStore } from "@tus/server";
import type { ResumableStaging } from "../ports/resumable-staging.js";

/**
 * Where tus (resumable) uploads keep their bytes: the tus datastore the protocol handler
 * writes to, and the ResumableStaging view of it the upload service reads finished uploads
 * through. One per backend (storage/fs/tus.ts, storage/s3/tus.ts), beside (never inside)
 * the blob store's own keys.
 */
export interface TusStaging {
  datastore: DataStore;
  staging: ResumableStaging;
  close(): Promise<void>;
}

/** Upload ids come from the service (asset ids); anything else never names a file or key. */
export const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;
