import type { AssetStatus } from "../domain/states.js";
import type { BlobRow } from "./repos.js";

export type Tier = "hot" | "cold";

/** Where a blob's bytes are, as its row says. */
export interface Placement {
  tier: Tier;
  storageKey: string;
}

export interface TierUsage {
  blobs: number;
  bytes: number;
}

/**
 * The rows the store-care passes (replication, scrub, lifecycle) read and write. Every
 * change is one statement; a switch of tier is a compare-and-set on the old placement, so
 * a row never points at a place the pass did not verify.
 */
export interface BlobCareRepo {
  /** Referenced blobs, least recently verified first (never verified before anything else). */
  leastRecentlyVerified(limit: number): Promise<BlobRow[]>;
  markVerified(sha256: string, at: number): Promise<void>;
  markReplicated(sha256: string, replicated: boolean): Promise<void>;
  /** Raises `last_read_at` to the given times (a time never moves back). */
  recordReads(reads: ReadonlyMap<string, number>): Promise<void>;
  /** Referenced hot blobs whose last read (or creation, if never read) is before `before`, oldest first. */
  coldCandidates(before: number, limit: number): Promise<BlobRow[]>;
  /** `from` -> `to` when the row still says `from`; false when it changed meanwhile. */
  switchPlacement(sha256: string, from: Placement, to: Placement): Promise<boolean>;
  usageByTier(): Promise<Record<Tier, TierUsage>>;
  /** Assets holding this content, deleted ones excluded. */
  assetsOf(sha256: string): Promise<Array<{ id: string; status: AssetStatus }>>;
}
