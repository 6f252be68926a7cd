import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { clientConfig } from "../../src/storage/s3/s3-store.js";
import { parseS3Url, type S3Location as S3UrlOptions } from "../../src/domain/storage-url.js";

/**
 * The S3 server a scenario may run a store on (the tests find theirs here too): the bucket named
 * by ASSETD_TEST_S3_URL (credentials from the URL or the AWS_* variables), else the Swift
 * server `bash scripts/s3-test-server.sh start` runs on 127.0.0.1:8081.
 */

/** What `scripts/s3-test-server.sh env` prints. */
const SCRIPT_URL = "s3://assetd-test?endpoint=http://127.0.0.1:8081&region=us-east-1&forcePathStyle=true";
const SCRIPT_CREDENTIALS = { accessKeyId: "test:tester", secretAccessKey: "testing" };

export interface BenchS3 {
  /** Where the bucket is, for notes (no credentials). */
  describe: string;
  bucket: string;
  /** The harness's own client (peer uploads, clean-up), configured like assetd's. */
  client(): S3Client;
  /** AWS_* for an assetd process, when the credentials are not already in the environment. */
  env: Record<string, string>;
  /** ASSETD_STORAGE for a store under `prefix` (a folder of the bucket's base prefix). */
  storageUrl(prefix: string): string;
  /** The full object key of `name` under `prefix`. */
  key(prefix: string, name: string): string;
  /** Deletes every object and aborts every multipart upload under `prefix/`. */
  empty(prefix: string): Promise<void>;
}

/** The test S3 server's options, or why there is none (shared with test/helpers/s3.ts). */
export async function locateTestS3(env: NodeJS.ProcessEnv = process.env): Promise<
  { options: S3UrlOptions } | { skip: string; configured: boolean }
> {
  const configured = env.ASSETD_TEST_S3_URL?.trim();
  const options = parseS3Url(configured || SCRIPT_URL);
  // The script's server has fixed test credentials; a configured server takes the URL's
  // or the standard AWS_* variables (the SDK's default chain).
  if (!configured && !options.accessKeyId) Object.assign(options, SCRIPT_CREDENTIALS);
  const probe = s3Client(options, { connectionTimeout: 1_000, maxAttempts: 1 });
  try {
    await probe.send(new HeadBucketCommand({ Bucket: options.bucket }));
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return {
      configured: Boolean(configured),
      skip: configured
        ? `ASSETD_TEST_S3_URL is set but bucket '${options.bucket}' is not reachable (${why})`
        : `no S3 server on ${options.endpoint} (${why}); run 'bash scripts/s3-test-server.sh start' or set ASSETD_TEST_S3_URL`,
    };
  } finally {
    probe.destroy();
  }
  return { options };
}

export async function findS3(env: NodeJS.ProcessEnv = process.env): Promise<BenchS3 | { skip: string }> {
  const found = await locateTestS3(env);
  if ("skip" in found) return { skip: found.skip };
  const { options } = found;
  const base = options.prefix ? `${options.prefix}/` : "";
  const processEnv: Record<string, string> = {};
  if (options.accessKeyId && options.secretAccessKey) {
    processEnv.AWS_ACCESS_KEY_ID = options.accessKeyId;
    processEnv.AWS_SECRET_ACCESS_KEY = options.secretAccessKey;
  }
  return {
    describe: `bucket '${options.bucket}' on ${options.endpoint ?? "AWS"}`,
    bucket: options.bucket,
    client: () => s3Client(options),
    env: processEnv,
    storageUrl(prefix) {
      const query = new URLSearchParams();
      if (options.endpoint) query.set("endpoint", options.endpoint);
      if (options.region) query.set("region", options.region);
      if (options.forcePathStyle !== undefined) query.set("forcePathStyle", String(options.forcePathStyle));
      return `s3://${options.bucket}/${base}${prefix}?${query}`;
    },
    key: (prefix, name) => `${base}${prefix}/${name}`,
    async empty(prefix) {
      const client = s3Client(options);
      try {
        await emptyPrefix(client, options.bucket, `${base}${prefix}/`);
      } finally {
        client.destroy();
      }
    },
  };
}

/** A client configured as assetd's S3 store configures its own, with test-sized timeouts. */
export function s3Client(options: S3UrlOptions, timeouts: { connectionTimeout?: number; maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    ...clientConfig(options),
    requestHandler: { connectionTimeout: timeouts.connectionTimeout ?? 5_000 },
    maxAttempts: timeouts.maxAttempts ?? 3,
  });
}

/** One by one: Swift's DeleteObjects needs Content-MD5, which the SDK no longer sends by default. */
export async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  if (!prefix.endsWith("/") || prefix === "/") throw new Error("refusing to empty a prefix that is not a folder");
  const { Uploads } = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const upload of Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
  }
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (object.Key) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
