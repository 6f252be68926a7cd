/**
 * Where blobs live, as `ASSETD_STORAGE` names it, parsed once at start-up into a typed
 * value the storage layer builds its backends from. Pure: no I/O.
 */

/** A bucket (and optional key prefix) on S3 or an S3-compatible service. */
export interface S3Location {
  bucket: string;
  /** Objects live at `<prefix>/<key>`; the bucket root when absent. */
  prefix?: string;
  /** An S3-compatible service (MinIO, Ceph, R2, Swift s3api…); AWS S3 when absent. */
  endpoint?: string;
  /** Default: the SDK's (AWS_REGION, profile), or us-east-1 with a custom endpoint. */
  region?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`. Default: true with a custom endpoint. */
  forcePathStyle?: boolean;
  /** Both or neither; when absent the SDK's default chain applies (see parseS3Url). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Staged bodies up to this size go in one PutObject; larger ones multipart. Default: partSize. */
  multipartThreshold?: number;
  /** Multipart part size, ≥ 5 MiB; it also caps objects at 1000 parts. Default: 8 MiB, more when the upload limit needs it. */
  partSize?: number;
  /**
   * The storage class committed objects get (e.g. STANDARD_IA for a cold tier); the
   * service's default (STANDARD) when absent. Staging objects always use the default.
   */
  storageClass?: string;
}

/** `file://<dir>` (an absolute directory) or `s3://bucket[/prefix]?...`. */
export type StorageLocation = { kind: "fs"; root: string } | ({ kind: "s3" } & S3Location);

/** A malformed `s3://` storage URL. The message never repeats the URL: it may hold a secret. */
export class S3UrlError extends Error {
  constructor(message: string) {
    super(`invalid s3 storage URL: ${message}`);
    this.name = "S3UrlError";
  }
}

/** S3's bucket naming rules (lowercase, 3-63 characters), which every S3 service accepts. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const PARAMS = new Set(["endpoint", "region", "forcePathStyle", "accessKeyId", "secretAccessKey", "partSize", "multipartThreshold", "storageClass"]);

/**
 * Parses `s3://bucket/optional/prefix?endpoint=http://127.0.0.1:8081&region=us-east-1&forcePathStyle=true`.
 *
 * Query parameters: `endpoint` (an S3-compatible service; AWS when absent), `region`,
 * `forcePathStyle` (true/false), `accessKeyId` + `secretAccessKey`, `partSize` and
 * `multipartThreshold` (bytes), `storageClass` (of committed objects, e.g. STANDARD_IA). Unknown or repeated parameters are refused, so a typo
 * fails at start-up instead of being ignored.
 *
 * Credentials, highest precedence first:
 *   1. `accessKeyId` and `secretAccessKey` in the URL (both or neither);
 *   2. otherwise the AWS SDK's default chain, which reads the standard environment
 *      variables `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`)
 *      first, then shared config files (`AWS_PROFILE`), then container/instance roles.
 * Prefer the environment: a URL is more likely to end up in a log or a process listing.
 */
export function parseS3Url(text: string): S3Location {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new S3UrlError("not a URL; expected s3://bucket/optional/prefix?endpoint=...");
  }
  if (url.protocol !== "s3:") throw new S3UrlError(`expected the s3: scheme, got ${url.protocol}`);
  if (url.username || url.password) {
    throw new S3UrlError("credentials go in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the accessKeyId/secretAccessKey parameters");
  }
  if (url.port) throw new S3UrlError("the host part is the bucket name; put the service address in ?endpoint=");
  const bucket = url.hostname;
  if (!BUCKET.test(bucket)) throw new S3UrlError(`bucket name '${bucket}' is not a valid S3 bucket name`);
  if (url.hash) throw new S3UrlError("unexpected #fragment");

  const params = url.searchParams;
  for (const name of new Set(params.keys())) {
    if (!PARAMS.has(name)) throw new S3UrlError(`unknown parameter '${name}' (known: ${[...PARAMS].join(", ")})`);
    if (params.getAll(name).length > 1) throw new S3UrlError(`parameter '${name}' is given more than once`);
  }
  const param = (name: string): string | undefined => {
    const value = params.get(name)?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

  const options: S3Location = { bucket };
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
  if (prefix) options.prefix = prefix;

  const endpoint = param("endpoint");
  if (endpoint !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(endpoint);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw new S3UrlError("endpoint must be an http:// or https:// URL");
    }
    options.endpoint = endpoint;
  }
  const region = param("region");
  if (region !== undefined) options.region = region;

  const pathStyle = param("forcePathStyle")?.toLowerCase();
  if (pathStyle !== undefined) {
    if (pathStyle === "true" || pathStyle === "1") options.forcePathStyle = true;
    else if (pathStyle === "false" || pathStyle === "0") options.forcePathStyle = false;
    else throw new S3UrlError("forcePathStyle must be true or false");
  }

  const accessKeyId = param("accessKeyId");
  const secretAccessKey = param("secretAccessKey");
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new S3UrlError("give both accessKeyId and secretAccessKey, or neither");
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    options.accessKeyId = accessKeyId;
    options.secretAccessKey = secretAccessKey;
  }

  const storageClass = param("storageClass");
  if (storageClass !== undefined) {
    if (!/^[A-Z_]{2,40}$/.test(storageClass)) throw new S3UrlError("storageClass must be an S3 storage class name such as STANDARD_IA");
    options.storageClass = storageClass;
  }

  for (const name of ["partSize", "multipartThreshold"] as const) {
    const value = param(name);
    if (value === undefined) continue;
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new S3UrlError(`${name} must be a number of bytes`);
    options[name] = Number(value);
  }
  return options;
}
