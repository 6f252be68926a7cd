import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";

import type { StoredObject } from "../../ports/blob-store.js";
import { InvalidKeyError, assertKey, assertPrefix } from "../fs/keys.js";
import { mapped } from "./errors.js";

export interface ListRequest {
  bucket: string;
  /** The store's key prefix ("" or ending in "/"). */
  storePrefix: string;
  /** The caller's prefix, relative to the store. */
  prefix: string;
  /** MaxKeys per ListObjectsV2 page (the service caps it at 1000). */
  pageSize: number;
}

/**
 * Every object under `prefix`, page by page (one page in memory at a time), with the store
 * prefix removed. Only names that are valid keys are listed: that drops `.staging/`
 * (uncommitted uploads) and anything else someone put into the bucket under our prefix
 * (console "folder" markers, `.DS_Store`), which get() would refuse anyway.
 */
export async function* listObjects(client: S3Client, request: ListRequest): AsyncGenerator<StoredObject> {
  assertPrefix(request.prefix);
  const { bucket, storePrefix, pageSize } = request;
  let token: string | undefined;
  do {
    const page = await mapped(
      client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: storePrefix + request.prefix,
          MaxKeys: pageSize,
          ContinuationToken: token,
        }),
      ),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key?.slice(storePrefix.length);
      if (key === undefined || !isValidKey(key)) continue;
      yield { key, size: object.Size ?? 0, ...(object.LastModified ? { modifiedAt: object.LastModified.getTime() } : {}) };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Whether `key` (store prefix removed) is a key the store would accept. */
export function isValidKey(key: string): boolean {
  try {
    assertKey(key);
    return true;
  } catch (e) {
    if (e instanceof InvalidKeyError) return false;
    throw e;
  }
}
