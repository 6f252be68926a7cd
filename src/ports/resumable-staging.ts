import type { Readable } from "node:stream";

/**
 * Where resumable (tus) uploads keep their bytes until they finish: the tus datastore of
 * the configured backend (a directory for the filesystem store, the bucket for S3). The
 * upload service reads a finished upload through it and removes it once ingested, aborted
 * or expired.
 */
export interface ResumableStaging {
  /** The bytes of the upload with this id. Throws BlobNotFoundError when there is none. */
  read(id: string): Promise<Readable>;
  /** Idempotent: removing an unknown upload succeeds. */
  remove(id: string): Promise<void>;
}
