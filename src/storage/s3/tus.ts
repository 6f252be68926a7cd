import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { S3Store } from "@tus/s3-store";
import { DataStore, ERRORS, MemoryKvStore, Upload } from "@tus/server";
import type { MetadataValue } from "@tus/s3-store";
import type { S3Location } from "../../domain/storage-url.js";
import { BlobNotFoundError } from "../../ports/blob-store.js";
import type { ResumableStaging } from "../../ports/resumable-staging.js";
import { SAFE_ID, type TusStaging } from "../tus-staging.js";
import { isMissingObject, isMissingUpload, toStoreError } from "./errors.js";
import { DEFAULT_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from "./limits.js";
import { clientConfig } from "./s3-store.js";

/** tus uploads under `<prefix>/tus/` in the store's bucket. */
export function createS3TusStaging(options: S3Location & { expirationMs?: number }): TusStaging {
  const prefix = tusPrefix(options.prefix);
  const config = clientConfig(options);
  const cache = new MemoryKvStore<MetadataValue>();
  const inner = new SharedClientS3Store({
    s3ClientConfig: { ...config, bucket: options.bucket },
    // Parts of at least 5 MiB, at most Swift's 1,000 of them (AWS's 10,000 is the default).
    partSize: Math.max(options.partSize ?? DEFAULT_PART_SIZE, MIN_PART_SIZE),
    maxMultipartParts: MAX_PARTS,
    expirationPeriodInMilliseconds: options.expirationMs ?? 0,
    // Tags only serve bucket lifecycle rules; Swift's s3api lacks object tagging, and the
    // upload service sweeps expired sessions through `staging.remove` instead.
    useTags: false,
    cache,
  });
  const client = inner.s3;
  const bucket = options.bucket;
  const keyOf = (id: string): string => {
    // The id becomes part of an object key: refuse anything that could leave the tus prefix.
    if (!SAFE_ID.test(id)) throw ERRORS.FILE_NOT_FOUND;
    return `${prefix}${id}`;
  };

  /**
   * Idempotent removal of everything S3Store may have written for an upload: the multipart
   * upload (unfinished), the object (finished), `.info` and the `.part` holding a tail
   * shorter than a part. S3Store.remove is not enough: for a finished upload its
   * AbortMultipartUpload fails with NoSuchUpload and it throws before deleting anything.
   */
  async function removeKey(key: string): Promise<void> {
    for (const uploadId of await multipartIdsOf(key)) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (e) {
        if (!isMissingUpload(e)) throw toStoreError(e);
      }
    }
    await Promise.all([key, `${key}.part`, `${key}.info`].map(async (Key) => {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (e) {
        if (!isMissingObject(e)) throw toStoreError(e);
      }
    }));
    await cache.delete(key);
  }

  /**
   * The multipart uploads open at `key`: listed rather than read from `.info`, because
   * S3Store.create starts the multipart upload before it writes `.info`, and a failure in
   * between must not leave an upload nobody can find.
   */
  async function multipartIdsOf(key: string): Promise<string[]> {
    const ids: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await mappedS3(client.send(new ListMultipartUploadsCommand({
        Bucket: bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker,
      })));
      for (const upload of page.Uploads ?? []) if (upload.Key === key && upload.UploadId) ids.push(upload.UploadId);
      if (!page.IsTruncated) return ids;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  const datastore = new PrefixedDataStore(inner, keyOf, removeKey);
  const staging: ResumableStaging = {
    async read(id) {
      if (!SAFE_ID.test(id)) throw new BlobNotFoundError(`tus/${id}`);
      // S3Store completes the multipart upload into the object named by the (prefixed) id
      // when the last byte arrives; before that there is no object and this is "not found".
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(id) }));
        return response.Body as Readable;
      } catch (e) {
        if (isMissingObject(e)) throw new BlobNotFoundError(`tus/${id}`);
        throw toStoreError(e);
      }
    },
    async remove(id) {
      if (!SAFE_ID.test(id)) return;
      await removeKey(keyOf(id));
    },
  };
  return {
    datastore,
    staging,
    async close() {
      client.destroy();
    },
  };
}

/** S3Store's own client, shared with read and remove: one configuration, one connection pool. */
class SharedClientS3Store extends S3Store {
  get s3(): S3Client {
    return this.client;
  }
}

/**
 * S3Store (2.0) has no key prefix: it writes `<id>`, `<id>.info` and `<id>.part` at the
 * bucket root (its source has a TODO for one). This wrapper hands it `<prefix>tus/<id>` as the
 * id and gives the protocol handler back the bare id, so tus objects live under
 * `<store prefix>/tus/`, apart from content keys and from `.staging/` (whose sweep would
 * delete slow uploads).
 */
class PrefixedDataStore extends DataStore {
  constructor(
    private readonly inner: S3Store,
    private readonly keyOf: (id: string) => string,
    private readonly removeKey: (key: string) => Promise<void>,
  ) {
    super();
    this.extensions = [...inner.extensions];
  }

  override async create(upload: Upload): Promise<Upload> {
    const stored = await mappedS3(this.inner.create(new Upload({ ...upload, id: this.keyOf(upload.id) })));
    // The handler keeps using its own object: give it what S3Store filled in.
    upload.creation_date = stored.creation_date;
    upload.storage = stored.storage;
    return upload;
  }

  override write(stream: Readable, id: string, offset: number): Promise<number> {
    return mappedS3(this.inner.write(stream, this.keyOf(id), offset));
  }

  override async getUpload(id: string): Promise<Upload> {
    const found = await mappedS3(this.inner.getUpload(this.keyOf(id)));
    return new Upload({ ...found, id });
  }

  override declareUploadLength(id: string, length: number): Promise<void> {
    return mappedS3(this.inner.declareUploadLength(this.keyOf(id), length));
  }

  /** Idempotent, unlike S3Store's: a DELETE racing the expiry sweep still answers 204. */
  override remove(id: string): Promise<void> {
    return this.removeKey(this.keyOf(id));
  }

  /**
   * Never S3Store.deleteExpired: it lists every multipart upload in the bucket and aborts the
   * old ones, the blob store's own included. The upload service sweeps expired sessions.
   */
  override async deleteExpired(): Promise<number> {
    return 0;
  }

  override getExpiration(): number {
    return this.inner.getExpiration();
  }
}

/** SDK failures as the error catalog's 503/507; tus's own `{status_code, body}` pass through. */
async function mappedS3<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (e) {
    throw toStoreError(e);
  }
}

/** `<prefix>/tus/` (or `tus/` at the bucket root), with the blob store's prefix rules. */
function tusPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (trimmed.split("/").some((segment) => segment === "." || segment === "..")) {
    throw new Error(`tus staging: prefix ${JSON.stringify(prefix)} has a dot segment`);
  }
  return trimmed === "" ? "tus/" : `${trimmed}/tus/`;
}
