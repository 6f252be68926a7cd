/**
 * Finds the S3 server the S3 tests run against: the one named by ASSETD_TEST_S3_URL, or
 * else the one `scripts/s3-test-server.sh start` runs (Swift + s3api on 127.0.0.1:8081).
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";

import { parseS3Url, type S3UrlOptions } from "../../src/storage/s3/s3-url.js";

/** What `scripts/s3-test-server.sh env` prints. */
const SCRIPT_URL = "s3://assetd-test?endpoint=http://127.0.0.1:8081&region=us-east-1&forcePathStyle=true";
const SCRIPT_CREDENTIALS = { accessKeyId: "test:tester", secretAccessKey: "testing" };

export type TestS3 =
  | { available: true; options: S3UrlOptions; admin: S3Client }
  /** `configured`: ASSETD_TEST_S3_URL was set, so being unreachable is a failure, not a skip. */
  | { available: false; configured: boolean; reason: string };

/** A client for the tests' own inspection and clean-up, outside the store under test. */
export function adminClient(options: S3UrlOptions, timeouts: { connectionTimeout?: number; maxAttempts?: number } = {}): S3Client {
  const custom = options.endpoint !== undefined;
  return new S3Client({
    ...(custom ? { endpoint: options.endpoint } : {}),
    region: options.region ?? (custom ? "us-east-1" : undefined),
    forcePathStyle: options.forcePathStyle ?? custom,
    ...(options.accessKeyId && options.secretAccessKey
      ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
      : {}),
    ...(custom ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
    requestHandler: { connectionTimeout: timeouts.connectionTimeout ?? 5_000 },
    maxAttempts: timeouts.maxAttempts ?? 3,
  });
}

export async function findTestS3(env: NodeJS.ProcessEnv = process.env): Promise<TestS3> {
  const configured = env.ASSETD_TEST_S3_URL?.trim();
  const options = parseS3Url(configured || SCRIPT_URL);
  // The script's server has fixed test credentials; a configured server takes the URL's
  // or the standard AWS_* variables (the SDK's default chain).
  if (!configured && !options.accessKeyId) Object.assign(options, SCRIPT_CREDENTIALS);
  const probe = adminClient(options, { connectionTimeout: 1_000, maxAttempts: 1 });
  try {
    await probe.send(new HeadBucketCommand({ Bucket: options.bucket }));
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const reason = configured
      ? `ASSETD_TEST_S3_URL is set but bucket '${options.bucket}' is not reachable (${why})`
      : `no S3 server on ${options.endpoint} (${why}); run 'bash scripts/s3-test-server.sh start' or set ASSETD_TEST_S3_URL`;
    return { available: false, configured: Boolean(configured), reason };
  } finally {
    probe.destroy();
  }
  return { available: true, options, admin: adminClient(options) };
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

/** Deletes every object and aborts every multipart upload under `prefix` (one by one: Swift's DeleteObjects needs Content-MD5). */
export async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  if (!prefix.endsWith("/")) throw new Error("refusing to empty a prefix that is not a folder");
  for (const { key, uploadId } of await multipartUploadsUnder(client, bucket, prefix)) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  }
  for (const key of await rawKeysUnder(client, bucket, prefix)) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
}
