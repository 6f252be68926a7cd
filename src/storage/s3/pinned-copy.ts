import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";

import { AppError } from "../../domain/errors.js";
import { copyObject, type CopyRequest } from "./copy.js";
import { errorName, httpStatus, isMissingObject } from "./errors.js";

/** The source no longer has the ETag it was measured (and hashed) with. */
export const replacedError = (cause?: unknown): AppError =>
  new AppError("state_conflict", "the uploaded object was replaced while it was being committed", {}, { cause });

export const isPreconditionFailed = (e: unknown): boolean => errorName(e) === "PreconditionFailed" || httpStatus(e) === 412;

/**
 * Copies `from` to `to` only if `from` still has `etag`: a client holding a presigned URL
 * for an adopted key may PUT other bytes after the service has hashed it, and those bytes
 * must never land under the first bytes' content address.
 *
 * The copy is conditional (x-amz-copy-source-if-match), which is atomic on AWS, MinIO and
 * Ceph. Swift's s3api (2.30) compares that header with Swift's own ETag, which for a
 * completed multipart upload (a static large object) is not the S3 one, so it refuses
 * every such copy. When the source still has `etag` after a refusal, the copy is made
 * unconditionally and the source checked again afterwards; a change in between deletes
 * the copy. Throws state_conflict when the source was replaced.
 */
export async function copyIfUnchanged(client: S3Client, request: CopyRequest & { etag: string }): Promise<void> {
  const { etag, ...copy } = request;
  try {
    await copyObject(client, { ...copy, ifMatch: etag });
    return;
  } catch (e) {
    if (!isPreconditionFailed(e)) throw e;
    if (!(await stillHas(client, copy.bucket, copy.from, etag))) throw replacedError(e);
  }
  await copyObject(client, copy);
  if (!(await stillHas(client, copy.bucket, copy.from, etag))) {
    await client.send(new DeleteObjectCommand({ Bucket: copy.bucket, Key: copy.to }));
    throw replacedError();
  }
}

async function stillHas(client: S3Client, bucket: string, key: string, etag: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }));
    return true;
  } catch (e) {
    if (isPreconditionFailed(e) || isMissingObject(e)) return false;
    throw e;
  }
}
