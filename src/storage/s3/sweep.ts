import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";

import { isMissingObject, isMissingUpload } from "./errors.js";

export interface SweepRequest {
  bucket: string;
  /** Full key prefix of the staging area (`<prefix>/.staging/`). */
  stagingPrefix: string;
  /** Staged objects older than this belong to a process that died between stage and commit. */
  objectMaxAgeMs: number;
  /** Multipart uploads older than this were abandoned (a crash mid-upload). */
  uploadMaxAgeMs: number;
  now?: number;
  /** Only count what would be removed. */
  dryRun?: boolean;
  /** Stops the sweep between (and during) requests, e.g. when the store closes. */
  signal?: AbortSignal;
}

/**
 * Removes what crashed processes left in the staging area: a process killed mid-upload or
 * between stage and commit never reaches its cleanup, and S3 keeps (and bills) both the
 * staged objects and the invisible parts of unfinished multipart uploads forever. Younger
 * ones are kept: another process sharing the bucket may still be using them. Returns how
 * many objects and uploads were removed.
 */
export async function sweepStaging(client: S3Client, request: SweepRequest): Promise<{ objects: number; uploads: number }> {
  const { bucket, stagingPrefix } = request;
  const now = request.now ?? Date.now();
  const options = request.signal ? { abortSignal: request.signal } : {};
  let objects = 0;
  let uploads = 0;

  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: stagingPrefix, ContinuationToken: token }), options);
    for (const object of page.Contents ?? []) {
      if (!object.Key || !object.LastModified || now - object.LastModified.getTime() <= request.objectMaxAgeMs) continue;
      if (request.dryRun) {
        objects++;
        continue;
      }
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }), options).catch((e: unknown) => {
        if (!isMissingObject(e)) throw e;
      });
      objects++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: stagingPrefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      options,
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || !upload.Initiated) continue;
      if (now - upload.Initiated.getTime() <= request.uploadMaxAgeMs) continue;
      if (request.dryRun) {
        uploads++;
        continue;
      }
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }), options)
        .catch((e: unknown) => {
          if (!isMissingUpload(e)) throw e;
        });
      uploads++;
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
  return { objects, uploads };
}
