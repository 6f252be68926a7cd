import type { AssetKind } from "../domain/media-types.js";
import type { Grant, Permission } from "../domain/grants.js";
import type { AssetEvent, AssetFilter, AssetMeta, AssetRow, Visibility } from "../domain/asset.js";
import type { QuotaRow } from "../domain/quota.js";
import type { AssetStatus, Failure } from "../domain/states.js";
import type { CounterRepo, GcRepo, TrashRepo } from "./gc.js";
import type { PassRepo } from "./scheduler.js";
import type { WebhookRepo } from "./webhooks.js";
import type { PrewarmRepo } from "./prewarm.js";

export type { AssetEvent, AssetFilter, AssetMeta, AssetRow, QuotaRow, Visibility };

/**
 * The metadata database as the services see it. Times are epoch milliseconds. One
 * implementation (db/) serves SQLite and PostgreSQL through Kysely; every method that
 * changes more than one row is a single transaction.
 */

export interface BlobRow {
  sha256: string;
  size: number;
  storageKey: string;
  sniffedType: string;
  refcount: number;
  tier: "hot" | "cold";
  createdAt: number;
  lastVerifiedAt: number | null;
  replicated: boolean;
  /** live | collecting (gc is removing it) | gone (removed; the row is a tombstone). */
  state: "live" | "collecting" | "gone";
  /** The incarnation; each has its own raw key (domain/content-address.ts `rawKeyOf`). */
  generation: number;
}

export interface VariantRow {
  cacheKey: string;
  blobSha256: string;
  recipe: string;
  storageKey: string;
  contentType: string;
  size: number;
  createdAt: number;
  lastAccessAt: number;
  hits: number;
  /** The cache key of the variant it was derived from (an intermediate rung); null or absent: the original. */
  parent?: string | null;
}

export interface NewAsset {
  id: string;
  owner: string;
  filename: string;
  declaredType: string | null;
  contentType: string;
  kind: AssetKind;
  size: number;
  public: boolean;
  tags: Record<string, string>;
  createdAt: number;
}

/**
 * The content an asset references. `generation`: the caller wrote this incarnation's bytes
 * at `storageKey` (the row is inserted or revived); absent: it references the live row as
 * it is (ContentCollectedError when there is none).
 */
export interface BlobRef {
  sha256: string;
  size: number;
  storageKey: string;
  sniffedType: string;
  at: number;
  generation?: number;
}

export interface IngestRecord {
  blob: BlobRef;
  asset: NewAsset;
  /** The states the asset went through, in order; the last one is its status. */
  events: ReadonlyArray<{ from: AssetStatus | null; to: AssetStatus; reason: string; at: number }>;
  /**
   * The owner's quota is charged `asset.size` and released `reserved` (taken with
   * QuotaRepo.reserve before the bytes arrived). When the size exceeds the reservation the
   * surplus must still fit the limit, else AppError `quota_exceeded` and nothing is written.
   */
  quota: { reserved: number; defaultMaxBytes: number | null };
}

export type UploadKind = "single" | "multipart" | "tus";

/** A direct-to-storage or resumable upload whose asset is still `pending`. */
export interface UploadSession {
  assetId: string;
  owner: string;
  kind: UploadKind;
  /** Where the client's bytes land: a store key (single, multipart) or the tus upload id. */
  stagingKey: string;
  /** The declared type; presigned PUTs are bound to it. */
  contentType: string;
  expectedSize: number;
  expectedSha256: string | null;
  /** The store's multipart upload id (S3), or null. */
  multipartId: string | null;
  partSize: number | null;
  /** Quota bytes held by this session until it completes or closes. */
  reservedBytes: number;
  /** After this the session is swept. */
  expiresAt: number;
  createdAt: number;
}

export interface NewPendingAsset {
  id: string;
  owner: string;
  filename: string;
  declaredType: string;
  kind: AssetKind;
  public: boolean;
  tags: Record<string, string>;
  createdAt: number;
}

export interface CompletionRecord {
  assetId: string;
  blob: BlobRef;
  contentType: string;
  kind: AssetKind;
  /** Appended in order; the first leaves `pending`, the last is the asset's new status. */
  events: ReadonlyArray<{ from: AssetStatus; to: AssetStatus; reason: string; at: number }>;
}

export interface Page {
  limit: number;
  /** Exclusive: only ids below this one (the list is newest first). */
  beforeId?: string;
}

export interface TransitionInput {
  from: AssetStatus;
  to: AssetStatus;
  reason: string;
  at: number;
  failure?: Failure | null;
  meta?: AssetMeta;
}

export interface AssetPatch {
  filename?: string;
  public?: boolean;
  /** null removes the tag. */
  tags?: Record<string, string | null>;
  at: number;
}

/** A near-duplicate: another asset and how many of the 64 perceptual-hash bits differ. */
export interface SimilarAsset {
  asset: AssetRow;
  distance: number;
}

export interface Stats {
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  logicalBytes: number;
  physicalBytes: number;
  variants: { count: number; bytes: number };
}

export interface AssetRepo {
  /** `tags: false` skips loading tags (the delivery hot path never shows them). */
  get(id: string, options?: { tags?: boolean }): Promise<AssetRow | undefined>;
  list(filter: AssetFilter, visibility: Visibility, page: Page): Promise<AssetRow[]>;
  events(id: string): Promise<AssetEvent[]>;
  /**
   * Guarded state change: applies only if the asset is still in `from`, records the event.
   * Returns the updated row, or undefined when the asset was not in `from` (a lost race).
   * The caller validates the edge with domain/states first.
   */
  transition(id: string, input: TransitionInput): Promise<AssetRow | undefined>;
  patch(id: string, patch: AssetPatch): Promise<AssetRow | undefined>;
  /**
   * Replaces the extracted facts without a state change (re-extraction, scan notes);
   * applies only while the asset is in `status`. Undefined otherwise.
   */
  replaceMeta(id: string, status: AssetStatus, meta: AssetMeta, at: number): Promise<AssetRow | undefined>;
  /**
   * Near-duplicates of asset `id` by perceptual hash (`meta.phash`, stored when a
   * transition sets meta): `ready` assets other than `id`, visible per `visibility` as in
   * `list`, whose hash differs from its hash in at most `maxDistance` bits; closest first,
   * then newest. Computed in the database. Empty when `id` is unknown or has no hash.
   */
  similar(id: string, maxDistance: number, visibility: Visibility, limit: number): Promise<SimilarAsset[]>;
  /** One of `owner`'s servable (verified or ready) assets holding this content, if any. */
  heldBy(owner: string, sha256: string): Promise<AssetRow | undefined>;
}

export interface BlobRepo {
  get(sha256: string): Promise<BlobRow | undefined>;
  /** Removes the row only if its refcount is 0; true when removed. */
  removeIfUnreferenced(sha256: string): Promise<boolean>;
}

export interface VariantRepo {
  get(cacheKey: string): Promise<VariantRow | undefined>;
  /** Insert or replace. */
  put(row: VariantRow): Promise<void>;
  /** Adds hits and moves last_access_at forward, batched by the caller. */
  recordHits(hits: ReadonlyMap<string, { count: number; at: number }>): Promise<void>;
  listByBlob(blobSha256: string): Promise<VariantRow[]>;
  delete(cacheKeys: readonly string[]): Promise<void>;
  /** How many variants (distinct recipes) of this content are stored; intermediate rungs are not recipes anyone asked for. */
  countByBlob(blobSha256: string): Promise<number>;
  /** The sum of every stored variant's size. */
  totalSize(): Promise<number>;
  /** The `limit` least recently used variants: oldest `lastAccessAt` first, then fewest hits. */
  leastRecentlyUsed(limit: number): Promise<VariantRow[]>;
  /**
   * Deletes the row unless it was rewritten (rendered again) since `createdAt`; true when
   * this call removed it, so concurrent eviction passes never both count one variant.
   */
  evict(cacheKey: string, createdAt: number): Promise<boolean>;
}

export interface UploadRepo {
  /**
   * One transaction: reserve `session.reservedBytes` of the owner's quota (limit: their
   * own, else `defaultMaxBytes`, null meaning none), insert the pending asset with its
   * first event and the session. When the bytes do not fit nothing is written and the
   * owner's current quota is returned instead.
   */
  open(asset: NewPendingAsset, session: UploadSession, defaultMaxBytes: number | null): Promise<{ asset: AssetRow } | { quotaExceeded: QuotaRow }>;
  get(assetId: string): Promise<UploadSession | undefined>;
  /** Sessions whose `expiresAt` is at or before `now`, oldest first. */
  expired(now: number, limit: number): Promise<UploadSession[]>;
  /**
   * One transaction: the blob referenced (inserted or refcount + 1), the asset moved from
   * `pending` through `events` with its content facts, the session deleted and its
   * reservation settled into used bytes. Undefined when the asset is no longer pending.
   */
  complete(record: CompletionRecord): Promise<{ asset: AssetRow; blobCreated: boolean; refcount: number } | undefined>;
  /**
   * One transaction: `pending` -> `to` with the event, the session deleted and its
   * reservation released. Undefined when the asset is no longer pending.
   */
  close(assetId: string, to: "failed" | "deleted", reason: string, at: number, failure?: Failure): Promise<AssetRow | undefined>;
}

export interface QuotaRepo {
  /** Zeros and no limit of its own when the owner has no row yet. */
  get(owner: string): Promise<QuotaRow>;
  list(): Promise<QuotaRow[]>;
  /** null: back to the configured default. */
  setLimit(owner: string, maxBytes: number | null): Promise<QuotaRow>;
  /** Atomically holds `bytes` if used + reserved + bytes fits the limit; false otherwise. */
  reserve(owner: string, bytes: number, defaultMaxBytes: number | null): Promise<boolean>;
  release(owner: string, bytes: number): Promise<void>;
}

export interface Repos {
  readonly assets: AssetRepo;
  readonly uploads: UploadRepo;
  readonly quotas: QuotaRepo;
  readonly blobs: BlobRepo;
  readonly variants: VariantRepo;
  readonly acl: AclRepo;
  readonly tokens: TokenRepo;
  readonly trash: TrashRepo;
  readonly gc: GcRepo;
  readonly counters: CounterRepo;
  readonly passes: PassRepo;
  readonly eventLog: EventLogRepo;
  readonly webhooks: WebhookRepo;
  /** Access statistics for demand prediction, and what prediction rendered (ports/prewarm.ts). */
  readonly prewarm: PrewarmRepo;
  /** One-time console sign-in codes, by their hash (services/login-codes.ts). */
  readonly loginCodes: LoginCodeRepo;
  /**
   * One transaction: blob row inserted with refcount 1 or its refcount incremented, the
   * asset inserted with the last event's status, the events appended.
   */
  recordIngest(record: IngestRecord): Promise<{ asset: AssetRow; blobCreated: boolean; refcount: number }>;
  /**
   * One transaction: guarded transition `from` -> deleted into the trash (deleted_at set,
   * event appended, the blob reference kept until a purge: `refcount` is its current
   * value) and the owner's quota given the asset's bytes back (or, for a pending upload,
   * its session closed and reservation released; nothing to restore). Undefined when the
   * asset was not in `from`.
   */
  softDelete(id: string, from: AssetStatus, reason: string, at: number): Promise<{ asset: AssetRow; refcount: number | null } | undefined>;
  /** Scoped to one owner when given, else the whole service. Deleted assets excluded. */
  stats(owner?: string): Promise<Stats>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The asset event log as a whole (an asset's own history is `AssetRepo.events`). */
export interface EventLogRepo {
  /** Deletes at most `limit` events older than `before` (ms), oldest first; returns how many. */
  pruneBefore(before: number, limit: number): Promise<number>;
}

/** ACL grants of assets (DESIGN §10 "Access"); `*` read and `asset.public` kept equal. */
export interface AclRepo {
  /** The asset's grants, sorted by principal then permission. */
  list(assetId: string): Promise<Grant[]>;
  /** The permissions granted to any of `principals` on the asset. */
  permissionsOf(assetId: string, principals: readonly string[]): Promise<Permission[]>;
  /** Replaces every grant; false when the asset does not exist. */
  replace(assetId: string, grants: readonly Grant[], at: number): Promise<boolean>;
  /** Adds one grant (a no-op when present); false when the asset does not exist. */
  add(assetId: string, grant: Grant, at: number): Promise<boolean>;
  /** Removes one grant; false when there was none. */
  remove(assetId: string, grant: Grant, at: number): Promise<boolean>;
}

/** A one-time sign-in code as stored: its SHA-256 (hex), never the code. */
export interface LoginCodeRow {
  codeHash: string;
  sub: string;
  admin: boolean;
  createdAt: number;
  expiresAt: number;
}

export interface LoginCodeRepo {
  create(row: LoginCodeRow): Promise<void>;
  /**
   * Marks the code used if it is unused and unexpired at `at`, in one conditional update,
   * so of concurrent redeems exactly one gets the row; undefined for everyone else.
   */
  redeem(codeHash: string, at: number): Promise<{ sub: string; admin: boolean } | undefined>;
  /** Forgets codes that expired before `before` (used or not). */
  forgetExpired(before: number): Promise<number>;
}

/** Token ids refused from now on (`jti`), until the token would have expired anyway. */
export interface TokenRepo {
  /** `expiresAt`: the token's own expiry (ms), null when it has none. */
  revoke(jti: string, expiresAt: number | null, at: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /** Drops rows of tokens past their expiry; returns how many. */
  forgetExpired(now: number): Promise<number>;
}
