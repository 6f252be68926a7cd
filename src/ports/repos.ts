import type { AssetKind } from "../domain/media-types.js";
import type { AssetStatus, Failure } from "../domain/states.js";

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
}

/** Extracted facts about an asset's content. Open-ended: engines add what they know. */
export type AssetMeta = Record<string, unknown>;

export interface AssetRow {
  id: string;
  owner: string;
  blobSha256: string | null;
  filename: string;
  declaredType: string | null;
  contentType: string | null;
  kind: AssetKind;
  size: number | null;
  status: AssetStatus;
  failure: Failure | null;
  public: boolean;
  meta: AssetMeta | null;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface AssetEvent {
  assetId: string;
  from: AssetStatus | null;
  to: AssetStatus;
  reason: string;
  at: number;
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

export interface IngestRecord {
  blob: { sha256: string; size: number; storageKey: string; sniffedType: string; at: number };
  asset: NewAsset;
  /** The states the asset went through, in order; the last one is its status. */
  events: ReadonlyArray<{ from: AssetStatus | null; to: AssetStatus; reason: string; at: number }>;
}

export interface AssetFilter {
  status?: AssetStatus;
  kind?: AssetKind;
  /** All must match. */
  tags?: ReadonlyArray<readonly [string, string]>;
  owner?: string;
  /** Case-insensitive substring of the filename. */
  q?: string;
  createdAfter?: number;
  createdBefore?: number;
}

/** Who is asking: admins see everything; others their own assets and public ones. */
export type Visibility = { kind: "all" } | { kind: "principal"; owner: string | null };

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
}

export interface Repos {
  readonly assets: AssetRepo;
  readonly blobs: BlobRepo;
  readonly variants: VariantRepo;
  /**
   * One transaction: blob row inserted with refcount 1 or its refcount incremented, the
   * asset inserted with the last event's status, the events appended.
   */
  recordIngest(record: IngestRecord): Promise<{ asset: AssetRow; blobCreated: boolean; refcount: number }>;
  /**
   * One transaction: guarded transition `from` -> deleted (deleted_at set, event appended)
   * and the blob's refcount decremented. Undefined when the asset was not in `from`.
   */
  softDelete(id: string, from: AssetStatus, reason: string, at: number): Promise<{ asset: AssetRow; refcount: number | null } | undefined>;
  /** Scoped to one owner when given, else the whole service. Deleted assets excluded. */
  stats(owner?: string): Promise<Stats>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
