import { createHash } from "node:crypto";
import { Readable, addAbortSignal } from "node:stream";

import { AbortMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

import { AppError } from "../../domain/errors.js";
import type { Logger } from "../../ports/logger.js";
import { isMissingUpload, toStoreError } from "./errors.js";
import { MAX_PARTS, UPLOAD_QUEUE_SIZE } from "./limits.js";

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  /** Full object key (store prefix included). */
  key: string;
  /** Bodies up to this many bytes go in one PutObject, larger ones as a multipart upload. */
  multipartThreshold: number;
  partSize: number;
  logger: Logger;
}

/** Content-MD5 for a PutObject: S3 and Swift reject the write (BadDigest) if bytes were altered. */
export const contentMd5 = (bytes: Uint8Array): string => createHash("md5").update(bytes).digest("base64");

/**
 * Streams `body` to `target.key` and returns the number of bytes written. Memory stays
 * bounded: a body up to multipartThreshold is buffered for one PutObject; a larger one goes
 * through lib-storage's Upload, which holds at most (queueSize + 1) parts.
 *
 * If the body fails, `signal` aborts or the store refuses, this rejects only after the
 * multipart upload has been aborted (no parts left behind) and any object written has been
 * deleted.
 */
export async function uploadStream(target: UploadTarget, body: Readable, signal?: AbortSignal): Promise<number> {
  // Aborting destroys the body with an AbortError, so every path below (head read, PutObject
  // wait, Upload's part reader) fails through the same body error, and lib-storage's own
  // clean-up runs. (Upload.abort() would reject at once while parts are still in flight.)
  if (signal) addAbortSignal(signal, body);
  const maxBytes = target.partSize * MAX_PARTS;
  let size = 0;

  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of body) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      size += bytes.length;
      // Past this size the upload would fail at part MAX_PARTS + 1, after all the copying.
      if (size > maxBytes) {
        throw new AppError("payload_too_large", `the object store takes at most ${maxBytes} bytes per object`, {
          limit: maxBytes,
        });
      }
      yield bytes;
    }
  }
  const source = counted();

  try {
    const head: Buffer[] = [];
    let headBytes = 0;
    for (;;) {
      if (headBytes > target.multipartThreshold) {
        await uploadMultipart(target, Readable.from(withHead(head, source)));
        return size;
      }
      const next = await source.next();
      if (next.done) break;
      head.push(next.value);
      headBytes += next.value.length;
    }
    await putSingle(target, Buffer.concat(head, headBytes), signal);
    return size;
  } catch (e) {
    body.destroy();
    throw toStoreError(e);
  }
}

async function* withHead(head: Buffer[], rest: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  // Hand the buffered chunks over and forget them, so they can be freed as parts are sent.
  while (head.length > 0) yield head.shift()!;
  yield* rest;
}

async function putSingle(target: UploadTarget, bytes: Buffer, signal?: AbortSignal): Promise<void> {
  const { client, bucket, key } = target;
  try {
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentMD5: contentMd5(bytes) }),
      signal ? { abortSignal: signal } : {},
    );
  } catch (e) {
    // An aborted or failed request may still have been stored server-side.
    await deleteQuietly(target, key);
    throw e;
  }
  if (signal?.aborted) {
    await deleteQuietly(target, key);
    throw Object.assign(new Error("The operation was aborted"), { name: "AbortError", cause: signal.reason as unknown });
  }
}

async function uploadMultipart(target: UploadTarget, body: Readable): Promise<void> {
  const { client, bucket, key, partSize } = target;
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body },
    partSize,
    queueSize: UPLOAD_QUEUE_SIZE,
    leavePartsOnError: false,
  });
  try {
    await upload.done();
  } catch (e) {
    body.destroy();
    // lib-storage aborts the upload itself, but if that request failed the parts stay,
    // billed and invisible: try once more (an upload already gone answers NoSuchUpload).
    if (upload.uploadId) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.uploadId }))
        .catch((abortError: unknown) => {
          if (!isMissingUpload(abortError)) {
            target.logger.warn({ err: abortError, key, uploadId: upload.uploadId }, "could not abort multipart upload");
          }
        });
    }
    throw e;
  }
}

async function deleteQuietly(target: UploadTarget, key: string): Promise<void> {
  try {
    await target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }));
  } catch (e) {
    target.logger.warn({ err: e, key }, "could not delete a partly written staging object");
  }
}
