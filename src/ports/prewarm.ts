/**
 * Access statistics for demand prediction and the record of what prediction rendered
 * (migration 010_prewarm). Implementation: db/repos/prewarm.ts.
 */

/** Requests of one canonical recipe on an owner's assets of one kind, on one epoch day. */
export interface DemandCount {
  owner: string;
  kind: string;
  recipe: string;
  day: number;
  count: number;
}

/** A recipe's requests summed over a window, and the last day it was asked for. */
export interface RecipeDemand {
  recipe: string;
  requests: number;
  lastDay: number;
}

export interface PrewarmedVariant {
  cacheKey: string;
  assetId: string;
  owner: string;
  kind: string;
  recipe: string;
  at: number;
}

export interface PrewarmFigures {
  /** Variants rendered by prewarm. */
  variants: number;
  /** Of those, how many were requested afterwards (each counted once). */
  requested: number;
}

export interface PrewarmRepo {
  /** Adds batched request counts (one upsert per owner, kind, recipe and day). */
  recordDemand(counts: readonly DemandCount[]): Promise<void>;
  /** The `limit` recipes most requested on `owner`'s assets of `kind` since `sinceDay` (inclusive), most first. */
  demand(owner: string, kind: string, sinceDay: number, limit: number): Promise<RecipeDemand[]>;
  /** Deletes request counts of days before `beforeDay`; returns how many rows went. */
  pruneDemand(beforeDay: number): Promise<number>;
  /** Records a variant a prewarm rendered; false when it was recorded before (kept as it was). */
  markRendered(variant: PrewarmedVariant): Promise<boolean>;
  /** Of these cache keys, marks prewarmed variants not yet requested as requested at `at`; returns how many. */
  markRequested(cacheKeys: readonly string[], at: number): Promise<number>;
  /** Service-wide when `owner` is undefined. */
  figures(owner?: string): Promise<PrewarmFigures>;
}
