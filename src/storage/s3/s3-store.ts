import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { AppError } from "../../domain/errors.js";
import type { S3Location } from "../../domain/storage-url.js";
import {
  BlobNotFoundError,
  type BlobStore,
  type ByteRange,
  type DirectUploads,
  type StoreCapabilities,
} from "../../ports/blob-store.js";
import { silentLogger, type Logger } from "../../ports/logger.js";
import { assertKey } from "../fs/keys.js";
import { copyObject } from "./copy.js";
import { createDirectUploads } from "./direct.js";
import { errorName, httpStatus, isMissingObject, mapped, toStoreError } from "./errors.js";
import { KeyedMutex } from "../../ports/keyed-mutex.js";
import { DEFAULT_PART_SIZE, MAX_SINGLE_OBJECT, MIN_PART_SIZE } from "./limits.js";
import { listObjects } from "./list.js";
import { copyIfUnchanged, isPreconditionFailed, replacedError } from "./pinned-copy.js";
import { S3StagedObject, type StagingHost } from "./staged-object.js";
import { sweepStaging } from "./sweep.js";
import { contentMd5, uploadStream } from "./upload.js";

/** Where the store lives (see domain/storage-url.ts), plus what only tests change. */
export interface S3StoreOptions extends S3Location {
  logger?: Logger;
  /** MaxKeys per ListObjectsV2 page (≤ 1000, the default); tests use small pages. */
  listPageSize?: number;
}

/** The S3 store's extras beyond the port, available where `capabilities.presign` is true. */
export interface S3BlobStore extends BlobStore {
  readonly direct: DirectUploads;
  /**
   * A URL that lets its holder GET (or PUT) the object at `key` without credentials for
   * `expiresInSeconds`. Whoever holds a PUT URL chooses the bytes: never presign a PUT to a
   * content address the service has not verified.
   */
  presign(method: "GET" | "PUT", key: string, expiresInSeconds: number): Promise<string>;
  /** A presigned GET whose response headers are fixed by the signature. */
  presignDownload(key: string, response: { contentType: string; disposition?: string }, expiresInSeconds: number): Promise<string>;
}

const CAPABILITIES: StoreCapabilities = Object.freeze({ presign: true, multipart: true, storageClasses: false });

/** Staged objects idle this long belong to a process that died between stage and commit. */
const STALE_STAGING_MS = 60 * 60 * 1000;
/** Multipart uploads this old were abandoned; a slow multi-GB upload can take hours. */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;
const PING_TIMEOUT_MS = 5_000;

/**
 * A BlobStore on S3 or an S3-compatible service. Objects are `<prefix>/<key>`; uploads are
 * streamed to `<prefix>/.staging/<uuid>` and copied server-side to their content key.
 *
 * S3 has no portable create-if-absent (Swift has no conditional PUT), so commit is HEAD, then
 * copy. Within this process commits to one key are serialised, so exactly one caller sees
 * "created". Across processes two commits may both copy; since keys are content addresses,
 * both write identical bytes and the last-writer-wins copy is harmless; the service's
 * per-content lock keeps the bookkeeping (which one counts as "created") single.
 */
export async function createS3Store(options: S3StoreOptions): Promise<S3BlobStore> {
  const { bucket } = options;
  if (!bucket) throw new Error("S3 store: a bucket is required");
  const logger = options.logger ?? silentLogger;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_SINGLE_OBJECT) {
    throw new Error(`S3 store: partSize must be from ${MIN_PART_SIZE} to ${MAX_SINGLE_OBJECT} bytes`);
  }
  const multipartThreshold = options.multipartThreshold ?? partSize;
  if (!Number.isSafeInteger(multipartThreshold) || multipartThreshold < 0 || multipartThreshold > MAX_SINGLE_OBJECT) {
    throw new Error(`S3 store: multipartThreshold must be from 0 to ${MAX_SINGLE_OBJECT} bytes`);
  }
  const listPageSize = options.listPageSize ?? 1000;
  if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
    throw new Error("S3 store: listPageSize must be from 1 to 1000");
  }
  const prefix = storePrefix(options.prefix);
  const stagingPrefix = `${prefix}.staging/`;
  const config = clientConfig(options);
  const client = new S3Client(config);
  // Signs URLs only, never sends. Without a body at signing time, a client that adds
  // checksums (WHEN_SUPPORTED, the SDK's default on AWS) signs the CRC32 of zero bytes into
  // every PUT URL, and the real upload is then refused; WHEN_REQUIRED adds none for PUT and
  // UploadPart. It shares the main client's (memoised) credential provider.
  const presigner = new S3Client({
    ...config,
    credentials: client.config.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const commits = new KeyedMutex();

  /** `<prefix>/<key>` after the same key rules as the fs store (InvalidKeyError otherwise). */
  const objectKey = (key: string): string => {
    assertKey(key);
    return prefix + key;
  };

  async function headObject(fullKey: string): Promise<{ size: number; etag: string | undefined } | undefined> {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: fullKey }));
      return { size: head.ContentLength ?? 0, etag: head.ETag };
    } catch (e) {
      if (isMissingObject(e)) return undefined;
      throw toStoreError(e);
    }
  }

  async function getObject(key: string, range?: ByteRange) {
    const fullKey = objectKey(key);
    try {
      const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
      return await client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey, Range }));
    } catch (e) {
      if (isMissingObject(e)) throw new BlobNotFoundError(key);
      if (errorName(e) === "InvalidRange" || httpStatus(e) === 416) {
        throw new AppError("range_not_satisfiable", "the requested range is outside the object", {}, { cause: e });
      }
      throw toStoreError(e);
    }
  }

  async function deleteObject(fullKey: string): Promise<void> {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: fullKey }));
    } catch (e) {
      if (!isMissingObject(e)) throw toStoreError(e);
    }
  }

  const readSource: StagingHost["readSource"] = async (sourceKey, etag) => {
    try {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: sourceKey, IfMatch: etag }));
      if (Body === undefined) return Readable.from([]);
      if (Body instanceof Readable) return Body;
      throw new Error("S3 store: GetObject returned a non-Node body");
    } catch (e) {
      if (isPreconditionFailed(e)) throw replacedError(e);
      if (isMissingObject(e)) throw new BlobNotFoundError(sourceKey.slice(prefix.length));
      throw toStoreError(e);
    }
  };

  const place: StagingHost["place"] = (sourceKey, fullKey, size, etag) =>
    mapped(
      commits.run(fullKey, async () => {
        if ((await headObject(fullKey)) !== undefined) return "existed" as const;
        const copy = { bucket, from: sourceKey, to: fullKey, size, storageClass: options.storageClass };
        await (etag === undefined ? copyObject(client, copy) : copyIfUnchanged(client, { ...copy, etag }));
        return "created" as const;
      }),
    );

  /** stage(): the source is a `.staging/` object, swept later if its delete fails. */
  const staging: StagingHost = {
    objectKey,
    place,
    readSource,
    async removeSource(stagingKey) {
      try {
        await deleteObject(stagingKey);
      } catch (e) {
        logger.warn({ err: e, key: stagingKey }, "could not delete a staged object");
      }
    },
  };

  /** adopt(): the source is a committed object that nothing sweeps, so a failed delete throws. */
  const adopted: StagingHost = { objectKey, place, readSource, removeSource: deleteObject };

  // In the background: start-up must not wait for (or fail on) a sweep of a large bucket;
  // close() cuts it short.
  const closing = new AbortController();
  const sweeping = sweepStaging(client, {
    bucket,
    stagingPrefix,
    objectMaxAgeMs: STALE_STAGING_MS,
    uploadMaxAgeMs: STALE_UPLOAD_MS,
    signal: closing.signal,
  }).then(
    (removed) => {
      if (removed.objects + removed.uploads > 0) logger.info({ ...removed, bucket, stagingPrefix }, "removed stale staging objects");
    },
    (e: unknown) => {
      if (!closing.signal.aborted) logger.warn({ err: e, bucket, stagingPrefix }, "could not sweep the staging area");
    },
  );
  let closed = false;

  return {
    capabilities: CAPABILITIES,

    async stage(body: Readable, signal?: AbortSignal) {
      const stagingKey = `${stagingPrefix}${randomUUID()}`;
      const size = await uploadStream({ client, bucket, key: stagingKey, multipartThreshold, partSize, logger }, body, signal);
      return new S3StagedObject(staging, stagingKey, size);
    },

    async put(key: string, bytes: Uint8Array) {
      const fullKey = objectKey(key);
      // A PUT replaces atomically: readers get the old or the new object, never a mix.
      await mapped(
        client.send(
          new PutObjectCommand({ Bucket: bucket, Key: fullKey, Body: bytes, ContentLength: bytes.length, ContentMD5: contentMd5(bytes) }),
        ),
      );
    },

    async get(key: string, range?: ByteRange) {
      if (range) checkRange(range);
      const { Body } = await getObject(key, range);
      if (Body === undefined) return Readable.from([]);
      // In Node the SDK's body is the http.IncomingMessage, a Readable.
      if (Body instanceof Readable) return Body;
      throw new Error("S3 store: GetObject returned a non-Node body");
    },

    async read(key: string) {
      const { Body } = await getObject(key);
      if (Body === undefined) return Buffer.alloc(0);
      const bytes = await mapped(Body.transformToByteArray());
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },

    async head(key: string) {
      const found = await headObject(objectKey(key));
      return found === undefined ? undefined : { key, size: found.size };
    },

    async delete(key: string) {
      await deleteObject(objectKey(key));
    },

    async adopt(key: string) {
      const fullKey = objectKey(key);
      const found = await headObject(fullKey);
      if (found === undefined) throw new BlobNotFoundError(key);
      // A client may still hold a valid presigned URL for `key` and PUT other bytes before
      // commit: the copy is pinned to this ETag, so what gets committed is what was
      // measured (and hashed, by a reader that got the same ETag), or nothing.
      return new S3StagedObject(adopted, fullKey, found.size, found.etag);
    },

    direct: createDirectUploads({ client, presigner, bucket, storePrefix: prefix, objectKey, pageSize: listPageSize }),

    list(listPrefix: string) {
      return listObjects(client, { bucket, storePrefix: prefix, prefix: listPrefix, pageSize: listPageSize });
    },

    async presign(method: "GET" | "PUT", key: string, expiresInSeconds: number) {
      const fullKey = objectKey(key);
      const command =
        method === "GET"
          ? new GetObjectCommand({ Bucket: bucket, Key: fullKey })
          : new PutObjectCommand({ Bucket: bucket, Key: fullKey });
      return mapped(getSignedUrl(presigner, command, { expiresIn: expiresInSeconds }));
    },

    async presignDownload(key: string, response: { contentType: string; disposition?: string }, expiresInSeconds: number) {
      const command = new GetObjectCommand({
        Bucket: bucket, Key: objectKey(key), ResponseContentType: response.contentType,
        ...(response.disposition ? { ResponseContentDisposition: response.disposition } : {}),
      });
      return mapped(getSignedUrl(presigner, command, { expiresIn: expiresInSeconds }));
    },

    async sweepStaging(maxAgeMs, options) {
      const swept = await sweepStaging(client, {
        bucket, stagingPrefix, objectMaxAgeMs: maxAgeMs, uploadMaxAgeMs: Math.max(maxAgeMs, STALE_UPLOAD_MS), dryRun: options?.dryRun ?? false,
      });
      return swept.objects + swept.uploads;
    },

    async ping() {
      try {
        // Bounded: a readiness probe must answer even when the store silently drops packets.
        await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      } catch (e) {
        if (httpStatus(e) === 404) {
          throw new AppError("dependency_down", "the object store's bucket does not exist", { bucket }, { cause: e });
        }
        if (errorName(e) === "AbortError" || errorName(e) === "TimeoutError") {
          throw new AppError("dependency_down", "the object store did not answer in time", {}, { cause: e });
        }
        throw toStoreError(e);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      await sweeping;
      client.destroy();
      presigner.destroy();
    },
  };
}

/** `a/b` -> `a/b/`; "" or absent -> "" (the bucket root). */
function storePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "";
  for (const segment of trimmed.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new Error(`S3 store: prefix ${JSON.stringify(prefix)} has an empty or dot segment`);
    }
  }
  return `${trimmed}/`;
}

/** Client settings for an S3 endpoint; the tus datastore on the same bucket uses them too. */
export function clientConfig(options: Pick<S3StoreOptions, "endpoint" | "region" | "forcePathStyle" | "accessKeyId" | "secretAccessKey">): S3ClientConfig {
  const { endpoint, accessKeyId, secretAccessKey } = options;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new Error("S3 store: give both accessKeyId and secretAccessKey, or neither");
  }
  const custom = endpoint !== undefined;
  return {
    ...(custom ? { endpoint } : {}),
    region: options.region ?? (custom ? "us-east-1" : undefined),
    // S3-compatible services mostly lack virtual-host buckets (they need DNS per bucket).
    forcePathStyle: options.forcePathStyle ?? custom,
    ...(accessKeyId !== undefined && secretAccessKey !== undefined ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    // Since early 2025 the SDK adds CRC checksums by default, sending streamed bodies as
    // aws-chunked; Swift's s3api, older MinIO, Ceph and (at times) R2 reject that. Checksums
    // only where the API requires them; our PUTs carry Content-MD5, which they all verify.
    ...(custom ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
    requestHandler: {
      // An unreachable store fails fast (as dependency_down) instead of hanging a request.
      connectionTimeout: 5_000,
      // Each streamed GET holds a socket until its reader finishes.
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  };
}

function checkRange({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}
