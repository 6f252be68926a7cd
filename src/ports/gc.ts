import type { AssetRow } from "../domain/asset.js";

/**
 * What the trash and the garbage collector need from the metadata database (DESIGN §10
 * "Operations"). Every method that changes rows is one transaction; the blob row's
 * `state` and `generation` decide every race between gc and ingest, so a lost lock can
 * make gc late but never wrong.
 */

/** gc claimed the content after the caller looked: no live row to reference; write the bytes again. */
export class ContentCollectedError extends Error {
  readonly sha256: string;
  constructor(sha256: string) {
    super(`content ${sha256} was collected while it was being referenced`);
    this.name = "ContentCollectedError";
    this.sha256 = sha256;
  }
}

export interface TrashRepo {
  /**
   * One transaction: a deleted asset still in the trash goes back to the status it had
   * (event appended, quota charged again: AppError `quota_exceeded` when it no longer
   * fits). Undefined when it is not in the trash (never deleted, purged, or expired).
   */
  restore(id: string, reason: string, at: number, defaultMaxBytes: number | null): Promise<AssetRow | undefined>;
  /**
   * One transaction: ends a deleted asset's trash entry and releases its reference on the
   * content (refcount − 1; `released_at` set when it reaches 0). Undefined when the asset
   * is not in the trash.
   */
  purge(id: string, reason: string, at: number): Promise<{ refcount: number | null } | undefined>;
  /** Whether the asset is deleted and still restorable. */
  inTrash(id: string): Promise<boolean>;
  /** Ids of trash entries deleted at or before `deletedBefore`, oldest first. */
  expired(deletedBefore: number, limit: number): Promise<string[]>;
}

/** A blob gc may collect: refcount 0 and released before the grace cut-off, or already claimed. */
export interface CollectableBlob {
  sha256: string;
  generation: number;
  storageKey: string;
  size: number;
  state: "live" | "collecting";
}

/** What a claim took: the incarnation's raw key, its variants' keys (rows already deleted), the owners that ever held it. */
export interface ClaimedBlob extends CollectableBlob {
  variants: ReadonlyArray<{ storageKey: string; size: number }>;
  owners: readonly string[];
}

/** What gc does with an unreferenced raw object, decided in the database. */
export type RawOrphanVerdict = "delete" | "keep";

export interface GcRepo {
  /** Up to `limit` collectable blobs (sha256 above `afterSha256`, in order). */
  collectable(releasedBefore: number, limit: number, afterSha256?: string): Promise<CollectableBlob[]>;
  /**
   * One transaction: `live` → `collecting` only if refcount is still 0, the generation the
   * one read and `released_at` still before the cut-off (a `collecting` row of the same
   * generation is taken over as it is: its collector died); the variant rows deleted.
   * Undefined when the blob changed since it was read.
   */
  claim(blob: CollectableBlob, releasedBefore: number, at: number): Promise<ClaimedBlob | undefined>;
  /** `collecting` → `gone` for that generation; false when an ingest revived it meanwhile. */
  finish(sha256: string, generation: number): Promise<boolean>;
  /**
   * For a raw object no live row names: "delete" after fencing any ingest that could still
   * be about to name it (the row's generation moved past it, or a tombstone inserted);
   * "keep" when a row names it or gc is collecting that content.
   */
  fenceRawOrphan(sha256: string, generation: number, key: string, at: number): Promise<RawOrphanVerdict>;
  /** Of these variant storage keys, those that a variant row names. */
  variantKeysKnown(keys: readonly string[]): Promise<Set<string>>;
  /** (owner, sha256) of every asset that still holds content (live or in the trash). */
  heldContent(): AsyncIterable<{ owner: string; sha256: string }>;
}

export interface CounterRepo {
  /** Adds each delta to its named counter (created at 0), in one transaction. */
  add(deltas: ReadonlyMap<string, number>): Promise<void>;
  all(): Promise<Record<string, number>>;
}
