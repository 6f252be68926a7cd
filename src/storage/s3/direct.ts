import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { DirectUploads, PendingMultipart, UploadedPart } from "../../ports/blob-store.js";
import { assertPrefix } from "../fs/keys.js";
import { errorName, isMissingUpload, mapped, toStoreError } from "./errors.js";
import { MAX_PARTS } from "./limits.js";
import { isValidKey } from "./list.js";

export interface DirectUploadsOptions {
  /** Sends the requests (create, list, complete, abort). */
  client: S3Client;
  /**
   * Signs URLs only. It must never compute request checksums: at signing time there is no
   * body, so a checksum-adding client bakes the CRC32 of zero bytes into the URL and every
   * real upload fails (aws-sdk-js-v3 since 3.729, with requestChecksumCalculation
   * WHEN_SUPPORTED, the default for AWS). See createS3Store.
   */
  presigner: S3Client;
  bucket: string;
  /** The store's key prefix ("" or ending in "/"). */
  storePrefix: string;
  /** `<prefix><key>` after the store's key rules (InvalidKeyError otherwise). */
  objectKey(key: string): string;
  /** Entries per list page (≤ 1000). */
  pageSize: number;
}

/** SigV4 presigned URLs live at most 7 days. */
const MAX_EXPIRY_SECONDS = 7 * 24 * 60 * 60;

/** CompleteMultipartUpload errors caused by the parts the client reported. */
const PART_ERRORS: Record<string, string> = {
  InvalidPart: "a part is missing or its ETag does not match the uploaded part",
  InvalidPartOrder: "the parts are not in ascending part-number order, or a part is listed twice",
  EntityTooSmall: "every part but the last must be at least 5 MiB",
  MalformedXML: "the part list is not valid",
};

/**
 * Direct-to-store uploads on S3: presigned SigV4 URLs for single PUTs and multipart parts,
 * and the multipart session calls around them. Keys are store keys: the store prefix is
 * added here, after the same key check as every other store method.
 */
export function createDirectUploads(options: DirectUploadsOptions): DirectUploads {
  const { client, presigner, bucket, storePrefix, objectKey, pageSize } = options;

  return {
    async presignPut(key, contentType, size, expiresInSeconds) {
      const Key = objectKey(key);
      checkContentType(contentType);
      checkSize(size);
      checkExpiry(expiresInSeconds);
      const command = new PutObjectCommand({ Bucket: bucket, Key, ContentType: contentType, ContentLength: size });
      // The presigner leaves Content-Type and Content-Length unsigned by default; signing
      // them makes the store refuse (403 SignatureDoesNotMatch) a PUT of another type or
      // size than the service accepted, so a session cannot park more bytes than it reserved.
      return mapped(getSignedUrl(presigner, command, {
        expiresIn: expiresInSeconds, signableHeaders: new Set(["content-type", "content-length"]),
      }));
    },

    async createMultipart(key, contentType) {
      const Key = objectKey(key);
      checkContentType(contentType);
      const { UploadId } = await mapped(client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, ContentType: contentType })));
      if (!UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
      return UploadId;
    },

    async presignPart(key, uploadId, partNumber, size, expiresInSeconds) {
      const Key = objectKey(key);
      checkUploadId(uploadId);
      checkPartNumber(partNumber);
      checkSize(size);
      checkExpiry(expiresInSeconds);
      const command = new UploadPartCommand({ Bucket: bucket, Key, UploadId: uploadId, PartNumber: partNumber, ContentLength: size });
      return mapped(getSignedUrl(presigner, command, { expiresIn: expiresInSeconds, signableHeaders: new Set(["content-length"]) }));
    },

    async listParts(key, uploadId) {
      const Key = objectKey(key);
      checkUploadId(uploadId);
      const parts: UploadedPart[] = [];
      let marker: string | undefined;
      for (;;) {
        const page = await client
          .send(new ListPartsCommand({ Bucket: bucket, Key, UploadId: uploadId, MaxParts: pageSize, PartNumberMarker: marker }))
          .catch((e: unknown) => {
            throw toMultipartError(e, uploadId);
          });
        for (const part of page.Parts ?? []) {
          if (part.PartNumber === undefined || !part.ETag) continue;
          parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
        }
        if (!page.IsTruncated || !page.NextPartNumberMarker) break;
        marker = page.NextPartNumberMarker;
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },

    async completeMultipart(key, uploadId, parts) {
      const Key = objectKey(key);
      checkUploadId(uploadId);
      if (parts.length === 0) throw new InvalidParameterError("parts", "at least one part is required");
      for (const { partNumber, etag } of parts) {
        checkPartNumber(partNumber);
        if (typeof etag !== "string" || etag === "") throw new InvalidParameterError("parts", `part ${partNumber} has no ETag`);
      }
      // S3 wants ascending part numbers; the order a client happened to finish in is not its fault.
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      await client
        .send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: sorted.map(({ partNumber, etag }) => ({ PartNumber: partNumber, ETag: etag })) },
          }),
        )
        .catch((e: unknown) => {
          throw toMultipartError(e, uploadId);
        });
    },

    async abortMultipart(key, uploadId) {
      const Key = objectKey(key);
      checkUploadId(uploadId);
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId: uploadId }));
      } catch (e) {
        if (!isMissingUpload(e)) throw toStoreError(e);
      }
    },

    listMultipart(prefix) {
      return listUploads(client, { bucket, storePrefix, prefix, pageSize });
    },
  };
}

/**
 * Unfinished uploads under `prefix`, page by page, with the store prefix removed. Only
 * valid keys are listed: that leaves out the store's own `.staging/` uploads, which the
 * staging sweep owns.
 */
async function* listUploads(
  client: S3Client,
  request: { bucket: string; storePrefix: string; prefix: string; pageSize: number },
): AsyncGenerator<PendingMultipart> {
  assertPrefix(request.prefix);
  const { bucket, storePrefix, pageSize } = request;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await mapped(
      client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: storePrefix + request.prefix,
          MaxUploads: pageSize,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      ),
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue;
      const key = upload.Key.slice(storePrefix.length);
      if (!isValidKey(key)) continue;
      yield { key, uploadId: upload.UploadId, initiatedAt: upload.Initiated?.getTime() ?? 0 };
    }
    if (!page.IsTruncated || (!page.NextKeyMarker && !page.NextUploadIdMarker)) return;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/** Maps what ListParts or CompleteMultipartUpload answer about the client's upload. */
function toMultipartError(e: unknown, uploadId: string): unknown {
  const name = errorName(e);
  if (name === "NoSuchUpload") {
    return new AppError("not_found", "the multipart upload does not exist (aborted, or already completed)", { uploadId }, { cause: e });
  }
  const why = name === undefined ? undefined : PART_ERRORS[name];
  if (why !== undefined) return new AppError("invalid_parameter", `cannot complete the upload: ${why}`, { parameter: "parts", uploadId }, { cause: e });
  return toStoreError(e);
}

function checkExpiry(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRY_SECONDS) {
    throw new RangeError(`presigned URLs expire after 1 to ${MAX_EXPIRY_SECONDS} seconds, not ${seconds}`);
  }
}

/** S3 takes at most 5 GiB in one PUT (object or part). */
function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > 5 * 1024 ** 3) {
    throw new RangeError(`a presigned PUT carries 0 to 5 GiB, not ${size} bytes`);
  }
}

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new InvalidParameterError("partNumber", `part numbers run from 1 to ${MAX_PARTS}`);
  }
}

/** A header value the client must repeat byte for byte: printable ASCII, no line breaks. */
function checkContentType(contentType: string): void {
  if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(contentType) || contentType.length > 255) {
    throw new InvalidParameterError("contentType", "the content type must be a printable ASCII header value");
  }
}

/** Upload ids are opaque, but they travel in URLs and XML: refuse anything unprintable. */
function checkUploadId(uploadId: string): void {
  if (!/^[\x21-\x7e]{1,1024}$/.test(uploadId)) throw new InvalidParameterError("uploadId", "invalid multipart upload id");
}
