/**
 * Multipart limits common to the S3 services we target. AWS allows 10,000 parts per upload;
 * Swift's s3api (and some other S3-compatible stores) only 1,000, so the smaller number is
 * the one that decides how large an object a given part size can carry.
 */
export const MIB = 1024 * 1024;

/** Every part but the last must be at least this large (S3 and Swift alike). */
export const MIN_PART_SIZE = 5 * MIB;

/** Swift s3api's `max_upload_part_num` default; AWS allows 10,000. */
export const MAX_PARTS = 1000;

/** The largest object a single PutObject or CopyObject may write (AWS and Swift's max_file_size). */
export const MAX_SINGLE_OBJECT = 5 * 1024 * MIB;

/**
 * 8 MiB parts carry objects up to ~7.8 GiB within 1,000 parts (the default upload limit is
 * 5 GiB) while an upload buffers only (queueSize + 1) parts in memory.
 */
export const DEFAULT_PART_SIZE = 8 * MIB;

/** Parts uploaded concurrently by one upload; with the part being filled, its memory bound. */
export const UPLOAD_QUEUE_SIZE = 3;

/**
 * The smallest whole-MiB part size that fits `maxObjectBytes` into MAX_PARTS parts, never
 * below DEFAULT_PART_SIZE. Pass the service's maximum upload size, e.g.
 * `partSize: partSizeFor(config.maxUploadBytes)`.
 */
export function partSizeFor(maxObjectBytes: number): number {
  const needed = Math.ceil(maxObjectBytes / MAX_PARTS / MIB) * MIB;
  return Math.max(DEFAULT_PART_SIZE, needed);
}
