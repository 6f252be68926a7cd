/**
 * Finds the S3 server the S3 tests run against: the one named by ASSETD_TEST_S3_URL, or
 * else the one `scripts/s3-test-server.sh start` runs (Swift + s3api on 127.0.0.1:8081).
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";

import { emptyPrefix, locateTestS3, s3Client } from "../../bench/lib/s3.js";
import type { S3Location as S3UrlOptions } from "../../src/domain/storage-url.js";

export type TestS3 =
  | { available: true; options: S3UrlOptions; admin: S3Client }
  /** `configured`: ASSETD_TEST_S3_URL was set, so being unreachable is a failure, not a skip. */
  | { available: false; configured: boolean; reason: string };

/** A client for the tests' own inspection and clean-up, outside the store under test. */
export const adminClient = s3Client;

export async function findTestS3(env: NodeJS.ProcessEnv = process.env): Promise<TestS3> {
  const found = await locateTestS3(env);
  if ("skip" in found) return { available: false, configured: found.configured, reason: found.skip };
  return { available: true, options: found.options, admin: adminClient(found.options) };
}

/** The S3 server for tests that run assetd processes on it (test/e2e/cluster.test.ts). */
export interface S3ProcessTarget {
  /** Why there is no server to run on; undefined when there is one. */
  skip?: string;
  /** Credentials for the processes (the standard AWS_* variables). */
  env: Record<string, string>;
  /** ASSETD_STORAGE for a store under `prefix` (a folder of the test bucket, no slashes at the ends). */
  storageUrl(prefix: string): string;
  /** Deletes everything under `prefix/`. */
  cleanup(prefix: string): Promise<void>;
  /** Objects whose full key starts with `keyPrefix` (e.g. `${prefix}/raw/`). */
  countObjects(keyPrefix: string): Promise<number>;
  /** Keys (relative to the bucket's test prefix) starting with `keyPrefix`, staging included. */
  keysUnder(keyPrefix: string): Promise<string[]>;
}

export async function s3TestTarget(): Promise<S3ProcessTarget> {
  const found = await findTestS3();
  if (!found.available) {
    const unavailable = () => Promise.reject(new Error(found.reason));
    return { skip: found.reason, env: {}, storageUrl: () => "", cleanup: async () => {}, countObjects: unavailable, keysUnder: unavailable };
  }
  const { options, admin } = found;
  const env: Record<string, string> = {};
  if (options.accessKeyId && options.secretAccessKey) {
    env.AWS_ACCESS_KEY_ID = options.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = options.secretAccessKey;
  }
  return {
    env,
    storageUrl(prefix) {
      const query = new URLSearchParams();
      if (options.endpoint) query.set("endpoint", options.endpoint);
      if (options.region) query.set("region", options.region);
      if (options.forcePathStyle !== undefined) query.set("forcePathStyle", String(options.forcePathStyle));
      const base = [options.prefix, prefix].filter(Boolean).join("/");
      return `s3://${options.bucket}/${base}?${query}`;
    },
    cleanup: (prefix) => emptyPrefix(admin, options.bucket, `${[options.prefix, prefix].filter(Boolean).join("/")}/`),
    countObjects: async (keyPrefix) =>
      (await rawKeysUnder(admin, options.bucket, [options.prefix, keyPrefix].filter(Boolean).join("/"))).length,
    keysUnder: async (keyPrefix) => {
      const base = options.prefix ? `${options.prefix}/` : "";
      const keys = await rawKeysUnder(admin, options.bucket, `${base}${keyPrefix}`);
      return keys.map((key) => key.slice(base.length));
    },
  };
}

/** Every full key under `prefix`, staging included. */
export async function rawKeysUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Unfinished multipart uploads under `prefix`, as `key uploadId` pairs. */
export async function multipartUploadsUnder(client: S3Client, bucket: string, prefix: string) {
  const { Uploads } = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
}

export { emptyPrefix };
