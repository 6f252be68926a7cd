import type { BlobStore } from "../ports/blob-store.js";
import type { Locks } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { Repos } from "../ports/repos.js";

export interface VariantCacheDeps {
  repos: Repos;
  store: BlobStore;
  locks: Locks;
  metrics: Metrics;
  logger: Logger;
  /** ASSETD_VARIANT_CACHE_BYTES. */
  budgetBytes: number;
  /** Writes batched access statistics first, so recency is current when choosing victims. */
  flushHits(): Promise<void>;
  /** Rows read per round of a pass. */
  batchSize?: number;
}

export interface EvictionReport {
  /** Stored variant bytes when the pass started, and when it ended. */
  before: number;
  after: number;
  evicted: number;
  evictedBytes: number;
}

/**
 * Keeps stored variants (images, stills) under ASSETD_VARIANT_CACHE_BYTES (DESIGN §10):
 * least recently used first (`last_access_at`, then `hits`). A variant is content-derived,
 * so evicting one only costs a render on its next request. Passes run on the worker's
 * timer and right after a render that pushes this process's running estimate over the
 * budget: the table is summed once per pass, never per request.
 */
export function createVariantCache(deps: VariantCacheDeps) {
  const { repos, store, locks, metrics, logger, budgetBytes } = deps;
  const batchSize = deps.batchSize ?? 100;
  /** Stored bytes as of the last pass plus what this process stored since; unknown before the first pass. */
  let estimate: number | undefined;
  let background: Promise<unknown> | undefined;
  let storedDuringPass = false;
  const listeners: Array<(cacheKeys: readonly string[]) => void> = [];

  /**
   * One pass, under a cluster-wide lock so two processes do not pick the same victims.
   * Each row is removed by a guarded delete (unchanged since it was read) before its
   * object, so a variant rendered again meanwhile survives, and a request that still finds
   * a row whose object is gone renders again.
   */
  async function evict(): Promise<EvictionReport> {
    return locks.withLock("variant-eviction", async () => {
      await deps.flushHits();
      const before = await repos.variants.totalSize();
      let total = before;
      let evicted = 0;
      let evictedBytes = 0;
      while (total > budgetBytes) {
        const victims = await repos.variants.leastRecentlyUsed(batchSize);
        if (victims.length === 0) break;
        const gone: string[] = [];
        let goneBytes = 0;
        for (const row of victims) {
          if (total <= budgetBytes) break;
          if (!(await repos.variants.evict(row.cacheKey, row.createdAt))) continue;
          await store.delete(row.storageKey);
          gone.push(row.cacheKey);
          total -= row.size;
          goneBytes += row.size;
        }
        evicted += gone.length;
        evictedBytes += goneBytes;
        if (gone.length > 0) {
          metrics.variantsEvicted(gone.length, goneBytes);
          for (const listener of listeners) listener(gone);
        }
        // Another pass (or a delete) changed the rows: start again from a fresh total.
        if (gone.length === 0) total = await repos.variants.totalSize();
      }
      estimate = total;
      if (evicted > 0) logger.info({ evicted, evictedBytes, before, after: total, budgetBytes }, "variants evicted");
      return { before, after: total, evicted, evictedBytes };
    });
  }

  /** Called after a variant was stored; starts a pass when the estimate says the budget is exceeded. */
  function stored(bytes: number): void {
    if (estimate !== undefined) estimate += bytes;
    if (background) {
      // The running pass summed the table before this variant: look again when it ends.
      storedDuringPass = true;
      return;
    }
    if (estimate !== undefined && estimate <= budgetBytes) return;
    background = evict()
      .catch((error: unknown) => logger.warn({ err: error }, "variant eviction failed"))
      .finally(() => {
        background = undefined;
        if (storedDuringPass) {
          storedDuringPass = false;
          stored(0);
        }
      });
  }

  /** Tells `listener` which cache keys were evicted (to drop in-memory copies). */
  function onEvicted(listener: (cacheKeys: readonly string[]) => void): void {
    listeners.push(listener);
  }

  /** Resolves when no pass started by `stored()` is running. */
  async function idle(): Promise<void> {
    while (background) await background;
  }

  return { evict, stored, onEvicted, idle };
}

export type VariantCache = ReturnType<typeof createVariantCache>;
