import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { ClamdAddress } from "../domain/clamd-address.js";
import type { Presets } from "../domain/recipe.js";
import type { TenantIsolation } from "../domain/tenancy.js";
import type { StorageLocation } from "../domain/storage-url.js";
import type { TrustedHost } from "../domain/trusted-hosts.js";
import { fetchConfig, type FetchConfig } from "./fetch.js";
import { webhookConfig, type WebhookConfig } from "./webhooks.js";
import { prewarmConfig } from "./prewarm.js";
import {
  tracesExporter,
  boolean, bytes, clamdAddress, corsOrigins, databaseUrl, decimal, deliveryRedirect, integer, list, oneOf, optionalPort, pattern, presets,
  redisUrl, secret, signingKeys, storageLocation, trustProxy, trustedHosts, url,
} from "./values.js";
export { ConfigError, parseByteSize } from "./values.js";

/**
 * Configuration is read once from the environment, typed, given defaults and validated.
 * A bad value stops start-up with a message naming the variable; nothing downstream ever
 * sees a raw string.
 */

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  /** SQLite: how long a write waits for another process's lock before answering 503. */
  sqliteBusyTimeoutMs: number;
  /** ASSETD_STORAGE as given (normalised): for messages and tools that pass it on. */
  storageUrl: string;
  /** ASSETD_STORAGE parsed: the backend to build. */
  storage: StorageLocation;
  /** ASSETD_DELIVERY_REDIRECT=store: originals answer 302 to a presigned GET of the S3 store. */
  deliveryRedirect: "off" | "store";
  /** How long such a presigned GET stays valid. */
  deliveryRedirectTtlSeconds: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  /** Where clamd listens (ASSETD_CLAMD); undefined: no virus scanning. */
  clamd: ClamdAddress | undefined;
  maxVideoSeconds: number;
  maxVideoPixels: number;
  publicUrl: string | undefined;
  /** ASSETD_TRUSTED_HOSTS: Host headers URLs may be built on while publicUrl is unset. */
  trustedHosts: readonly TrustedHost[];
  /** ASSETD_TRUST_PROXY: peers whose X-Forwarded-* headers are believed (false: none). */
  trustProxy: false | number | readonly string[];
  /** Origins browsers may call the API from: ["*"] (any), or exact origins. */
  corsOrigins: readonly string[];
  jwtSecret: string | undefined;
  /** ASSETD_URL_SIGNING_KEY: keys for signed URLs, the first signs; empty: one derived from the JWT secret. */
  urlSigningKeys: readonly string[];
  /** ASSETD_SIGNED_TRANSFORMS: non-owners need a signed URL for transforms beyond presets. */
  signedTransforms: boolean;
  /** ASSETD_PRESETS (JSON, or a path to a JSON file): the named recipes; default thumb, small, medium, large. */
  presets: Presets;
  /** ASSETD_TENANT_ISOLATION: `strict` keeps variants and HLS ladders per owner instead of per content. */
  tenantIsolation: TenantIsolation;
  maxUploadBytes: number;
  /** null: no limit unless an admin sets one per owner. */
  quotaDefaultBytes: number | null;
  /** Direct-to-storage uploads above this size are multipart. */
  multipartThreshold: number;
  partSize: number;
  uploadUrlTtlSeconds: number;
  uploadSessionTtlSeconds: number;
  /** How often expired upload sessions are swept; 0 turns the schedule off. */
  sweepIntervalSeconds: number;
  /** ASSETD_TRASH_TTL: how long a deleted asset can be restored (seconds). */
  trashTtlSeconds: number;
  /** ASSETD_GC_GRACE: unreferenced content and unnamed objects younger than this are kept (seconds). */
  gcGraceSeconds: number;
  /** ASSETD_GC_INTERVAL: how often a worker of the deployment runs gc; 0 turns the schedule off. */
  gcIntervalSeconds: number;
  /** OpenTelemetry trace export, from the standard OTEL_* variables; "none" by default. */
  tracesExporter: "otlp" | "none";
  /** Asset events older than this are deleted by the worker's sweep; 0 keeps them all. */
  eventRetentionDays: number;
  allowedTypes: readonly string[];
  maxPixels: number;
  maxOutputPixels: number;
  maxTransforms: number;
  /** A render running synchronous code (a PDF page) is killed after this long: 422 render_timeout. */
  renderTimeoutMs: number;
  transformQueue: number;
  /** ASSETD_RATE_LIMIT: requests per minute per principal (per IP when anonymous); 0: off. */
  rateLimitPerMinute: number;
  /** ASSETD_RENDER_BUDGET: render CPU-seconds per minute per principal (per IP when anonymous); 0: off. */
  renderBudgetSeconds: number;
  /** ASSETD_METRICS_TOKEN: when set, /metrics needs it as a bearer token. */
  metricsToken: string | undefined;
  /** ASSETD_WORKER_METRICS_PORT: where `assetd worker` serves /metrics; undefined: not served. */
  workerMetricsPort: number | undefined;
  variantMemoryBytes: number;
  /** Stored variants are kept under this many bytes, least recently used evicted first. */
  variantCacheBytes: number;
  /** Distinct recipes of one asset a non-owner may have rendered (presets and signed URLs exempt). */
  maxRecipesPerAsset: number;
  /** ASSETD_INTERMEDIATES: derive variants of large images from cached intermediate rungs. */
  intermediates: boolean;
  /** ASSETD_ASYNC_VARIANTS: a variant miss answers 202 and a `render-variant` job renders it. */
  asyncVariants: boolean;
  /** Demand prediction (ASSETD_PREWARM_*): recipes predicted per new asset (0: off), render-slot share, window. */
  prewarm: { top: number; cpuShare: number; windowDays: number };
  /** ASSETD_INTERMEDIATE_MIN_PIXELS: sources below this render every variant from the original. */
  intermediateMinPixels: number;
  /** Originals with their location removed, kept in memory for non-owners (0 scrubs on every request). */
  locationCacheBytes: number;
  /** ASSETD_META_CACHE_SIZE: assets whose delivery facts (state, owner, grants, content) are kept in memory; 0: off. */
  metaCacheSize: number;
  /** ASSETD_META_CACHE_TTL_MS: the longest such an entry is used, however its invalidation fared. */
  metaCacheTtlMs: number;
  /** Node's headers timeout: a client that has not sent its headers by then gets 408. */
  headersTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed (covers every request body). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeoutMs: number;
  /** An upload body that sends nothing for this long is dropped, staged bytes discarded. */
  uploadIdleTimeoutMs: number;
  /** An upload body slower than this (bytes a second, over each idle window) is dropped; 0: no floor. */
  uploadMinBytesPerSecond: number;
  avifEffort: number;
  autoAvif: boolean;
  /** ASSETD_CLIENT_HINTS: Accept-CH on transform responses; DPR and width hints shape `w=auto` and sides without `dpr`. */
  clientHints: boolean;
  workerConcurrency: number;
  jobMaxAttempts: number;
  jobLeaseMs: number;
  /** URL imports: ASSETD_FETCH_ALLOW and the fetch caps. */
  fetch: FetchConfig;
  /** Webhook deliveries: ASSETD_WEBHOOK_ATTEMPTS, ASSETD_WEBHOOK_TIMEOUT_MS. */
  webhooks: WebhookConfig;
  logLevel: LogLevel;
  /** ASSETD_LOG_FORMAT: `auto` is readable lines on a terminal and JSON otherwise. */
  logFormat: "auto" | "json" | "pretty";
  /** ASSETD_REPLICA: a second store new originals are copied to and reads fall back to. */
  replica: StorageLocation | undefined;
  /** ASSETD_COLD_STORAGE: where originals nobody reads for coldAfterDays are moved. */
  coldStorage: StorageLocation | undefined;
  coldAfterDays: number;
  /** ASSETD_SCRUB_RATE: scrub reads at most this many bytes a second (0: unlimited). */
  scrubBytesPerSecond: number;
  /** ASSETD_SCRUB_INTERVAL / ASSETD_LIFECYCLE_INTERVAL: seconds between scheduled passes; 0: off. */
  scrubIntervalSeconds: number;
  lifecycleIntervalSeconds: number;
}


type Env = Record<string, string | undefined>;
type Read = (name: string) => string | undefined;

/** The replica, the cold tier and the passes that look after them. */
function storeCare(read: Read, dataDir: string) {
  const location = (name: string) => {
    const text = read(name);
    return text === undefined ? undefined : storageLocation(text, dataDir, name).location;
  };
  return {
    replica: location("ASSETD_REPLICA"),
    coldStorage: location("ASSETD_COLD_STORAGE"),
    coldAfterDays: decimal(read, "ASSETD_COLD_AFTER_DAYS", 90, 0, 36_500),
    scrubBytesPerSecond: Math.round(decimal(read, "ASSETD_SCRUB_RATE", 20, 0, 100_000) * 1_000_000),
    scrubIntervalSeconds: integer(read, "ASSETD_SCRUB_INTERVAL", 3600, 0, 30 * 24 * 3600),
    lifecycleIntervalSeconds: integer(read, "ASSETD_LIFECYCLE_INTERVAL", 24 * 3600, 0, 30 * 24 * 3600),
  };
}

const DEFAULT_ALLOWED_TYPES = ["image/*", "video/*", "audio/*", "application/pdf", "text/plain", "text/csv",
  "application/json", "application/zip", "application/gzip", "application/octet-stream"];

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const read = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const dataDir = resolve(cwd, read("ASSETD_DATA_DIR") ?? "./data");
  const cores = availableParallelism();
  const storage = storageLocation(read("ASSETD_STORAGE"), dataDir);
  const host = read("ASSETD_HOST") ?? "127.0.0.1";

  return Object.freeze({
    port: integer(read, "ASSETD_PORT", 8080, 0, 65535),
    host,
    dataDir,
    databaseUrl: databaseUrl(read("ASSETD_DATABASE_URL"), dataDir),
    sqliteBusyTimeoutMs: integer(read, "ASSETD_SQLITE_BUSY_TIMEOUT_MS", 5_000, 0, 600_000),
    storageUrl: storage.url,
    storage: storage.location,
    deliveryRedirect: deliveryRedirect(read, storage.location),
    deliveryRedirectTtlSeconds: integer(read, "ASSETD_DELIVERY_REDIRECT_TTL", 300, 10, 7 * 24 * 3600),
    redisUrl: redisUrl(read("ASSETD_REDIS_URL")),
    redisPrefix: pattern(read, "ASSETD_REDIS_PREFIX", /^[A-Za-z0-9_.-]{1,64}$/, "assetd"),
    clamd: clamdAddress(read("ASSETD_CLAMD")),
    maxVideoSeconds: integer(read, "ASSETD_MAX_VIDEO_SECONDS", 3600, 1, 86_400),
    maxVideoPixels: integer(read, "ASSETD_MAX_VIDEO_PIXELS", 4096 * 4096, 1, 100_000_000),
    publicUrl: url(read, "ASSETD_PUBLIC_URL"),
    trustedHosts: Object.freeze(trustedHosts(read("ASSETD_TRUSTED_HOSTS"), host)),
    trustProxy: trustProxy(read("ASSETD_TRUST_PROXY")),
    corsOrigins: Object.freeze(corsOrigins(read("ASSETD_CORS_ORIGINS"))),
    jwtSecret: secret(read("ASSETD_JWT_SECRET")),
    urlSigningKeys: Object.freeze(signingKeys(read("ASSETD_URL_SIGNING_KEY"))),
    signedTransforms: boolean(read, "ASSETD_SIGNED_TRANSFORMS", false),
    presets: presets(read("ASSETD_PRESETS"), cwd),
    tenantIsolation: oneOf(read, "ASSETD_TENANT_ISOLATION", ["shared", "strict"], "shared"),
    maxUploadBytes: bytes(read, "ASSETD_MAX_UPLOAD_BYTES", 5 * 1024 ** 3),
    quotaDefaultBytes: read("ASSETD_QUOTA_DEFAULT_BYTES") === undefined ? null : bytes(read, "ASSETD_QUOTA_DEFAULT_BYTES", 0, 0),
    multipartThreshold: bytes(read, "ASSETD_MULTIPART_THRESHOLD", 64 * 1024 * 1024, 5 * 1024 * 1024),
    partSize: bytes(read, "ASSETD_PART_SIZE", 16 * 1024 * 1024, 5 * 1024 * 1024),
    uploadUrlTtlSeconds: integer(read, "ASSETD_UPLOAD_URL_TTL", 15 * 60, 1, 7 * 24 * 3600),
    uploadSessionTtlSeconds: integer(read, "ASSETD_UPLOAD_SESSION_TTL", 24 * 3600, 1, 30 * 24 * 3600),
    sweepIntervalSeconds: integer(read, "ASSETD_SWEEP_INTERVAL", 60, 0, 24 * 3600),
    trashTtlSeconds: integer(read, "ASSETD_TRASH_TTL", 7 * 24 * 3600, 0, 365 * 24 * 3600),
    gcGraceSeconds: integer(read, "ASSETD_GC_GRACE", 3600, 0, 30 * 24 * 3600),
    gcIntervalSeconds: integer(read, "ASSETD_GC_INTERVAL", 3600, 0, 30 * 24 * 3600),
    tracesExporter: tracesExporter(read),
    eventRetentionDays: integer(read, "ASSETD_EVENT_RETENTION_DAYS", 365, 0, 100 * 365),
    allowedTypes: Object.freeze(list(read("ASSETD_ALLOWED_TYPES")) ?? DEFAULT_ALLOWED_TYPES),
    maxPixels: integer(read, "ASSETD_MAX_PIXELS", 100_000_000, 1, Number.MAX_SAFE_INTEGER),
    maxOutputPixels: integer(read, "ASSETD_MAX_OUTPUT_PIXELS", 50_000_000, 1, Number.MAX_SAFE_INTEGER),
    // A render alternates between libvips threads and the event loop; two per core keep
    // the cores busy across those hand-overs.
    maxTransforms: integer(read, "ASSETD_MAX_TRANSFORMS", cores * 2, 1, 256),
    transformQueue: integer(read, "ASSETD_TRANSFORM_QUEUE", 256, 0, 100_000),
    renderTimeoutMs: integer(read, "ASSETD_RENDER_TIMEOUT_MS", 30_000, 100, 600_000),
    rateLimitPerMinute: integer(read, "ASSETD_RATE_LIMIT", 1200, 0, 10_000_000),
    renderBudgetSeconds: decimal(read, "ASSETD_RENDER_BUDGET", 60, 0, 86_400),
    metricsToken: read("ASSETD_METRICS_TOKEN"),
    workerMetricsPort: optionalPort(read, "ASSETD_WORKER_METRICS_PORT", 9464),
    variantMemoryBytes: bytes(read, "ASSETD_VARIANT_MEMORY_BYTES", 64 * 1024 * 1024, 0),
    variantCacheBytes: bytes(read, "ASSETD_VARIANT_CACHE_BYTES", 10 * 1024 ** 3),
    maxRecipesPerAsset: integer(read, "ASSETD_MAX_RECIPES_PER_ASSET", 64, 1, 100_000),
    intermediates: boolean(read, "ASSETD_INTERMEDIATES", true),
    asyncVariants: boolean(read, "ASSETD_ASYNC_VARIANTS", false),
    prewarm: prewarmConfig(read),
    intermediateMinPixels: integer(read, "ASSETD_INTERMEDIATE_MIN_PIXELS", 8_000_000, 1, Number.MAX_SAFE_INTEGER),
    locationCacheBytes: bytes(read, "ASSETD_LOCATION_CACHE_BYTES", 64 * 1024 * 1024, 0),
    metaCacheSize: integer(read, "ASSETD_META_CACHE_SIZE", 10_000, 0, 10_000_000),
    metaCacheTtlMs: integer(read, "ASSETD_META_CACHE_TTL_MS", 5_000, 1, 3_600_000),
    headersTimeoutMs: integer(read, "ASSETD_HEADERS_TIMEOUT_MS", 30_000, 100, 600_000),
    requestTimeoutMs: integer(read, "ASSETD_REQUEST_TIMEOUT_MS", 300_000, 0, 86_400_000),
    keepAliveTimeoutMs: integer(read, "ASSETD_KEEP_ALIVE_TIMEOUT_MS", 5_000, 100, 600_000),
    uploadIdleTimeoutMs: integer(read, "ASSETD_UPLOAD_IDLE_TIMEOUT_MS", 30_000, 0, 3_600_000),
    uploadMinBytesPerSecond: integer(read, "ASSETD_UPLOAD_MIN_RATE", 500, 0, 1_000_000_000),
    avifEffort: integer(read, "ASSETD_AVIF_EFFORT", 3, 0, 9),
    autoAvif: boolean(read, "ASSETD_AUTO_AVIF", true),
    clientHints: boolean(read, "ASSETD_CLIENT_HINTS", false),
    workerConcurrency: integer(read, "ASSETD_WORKER_CONCURRENCY", Math.max(1, cores), 1, 256),
    jobMaxAttempts: integer(read, "ASSETD_JOB_MAX_ATTEMPTS", 5, 1, 100),
    jobLeaseMs: integer(read, "ASSETD_JOB_LEASE_MS", 30_000, 1000, 3_600_000),
    fetch: fetchConfig(read),
    webhooks: webhookConfig(read),
    logLevel: oneOf(read, "ASSETD_LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
    logFormat: oneOf(read, "ASSETD_LOG_FORMAT", ["auto", "json", "pretty"], "auto"),
    ...storeCare(read, dataDir),
  });
}

