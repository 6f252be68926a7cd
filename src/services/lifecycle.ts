import type { BlobCareRepo } from "../ports/blob-care.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { CareMetrics } from "../ports/care-metrics.js";
import type { Clock } from "../ports/clock.js";
import type { Locks } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import { copyVerified } from "./stored-bytes.js";

export interface LifecycleDeps {
  care: Pick<BlobCareRepo, "coldCandidates" | "switchPlacement">;
  hot: BlobStore;
  /** The cold tier's own store; a cold original's storage key is `coldKey(key)` in the primary. */
  cold: BlobStore;
  coldKey(key: string): string;
  coldAfterDays: number;
  locks: Locks;
  metrics: CareMetrics;
  clock: Clock;
  logger: Logger;
}

/** What one lifecycle pass did. */
export interface LifecycleReport {
  /** Hot originals not read for coldAfterDays. */
  candidates: number;
  /** Moved to the cold tier (copied, verified, row switched, hot copy removed). */
  moved: number;
  bytes: number;
  /** Not moved: the hot copy was missing or corrupt (scrub repairs it), or the row changed meanwhile. */
  skipped: number;
  durationMs: number;
}

export const DEFAULT_LIFECYCLE_LIMIT = 1000;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Moves originals nobody has read for `coldAfterDays` to the cold tier. Each move is
 * crash-safe: copy to the cold store, verify the hash of what arrived, switch the row
 * (compare-and-set on the old placement), and only then delete the hot copy. A crash at
 * any step leaves the row pointing at bytes that are there; the next pass redoes an
 * unfinished copy. Reads keep working from either tier throughout.
 */
export function createLifecycle(deps: LifecycleDeps) {
  const { care, hot, cold, metrics, clock, logger } = deps;

  async function run(options: { limit?: number; onProgress?: (p: { done: number; total: number; bytes: number }) => void } = {}): Promise<LifecycleReport> {
    const started = performance.now();
    const report: LifecycleReport = { candidates: 0, moved: 0, bytes: 0, skipped: 0, durationMs: 0 };
    const before = clock.now() - deps.coldAfterDays * DAY_MS;
    const blobs = await care.coldCandidates(before, options.limit ?? DEFAULT_LIFECYCLE_LIMIT);
    report.candidates = blobs.length;
    let done = 0;
    for (const blob of blobs) {
      // The per-content lock orders the move against an ingest or a collection of the same bytes.
      const moved = await deps.locks.withLock(`blob:${blob.sha256}`, async () => {
        const hotKey = blob.storageKey;
        const outcome = await copyVerified(hot, hotKey, cold, hotKey, blob.sha256, { replace: true });
        if (outcome !== "copied") {
          logger.warn({ sha256: blob.sha256, outcome }, "lifecycle left an original hot: its hot copy is not intact");
          return false;
        }
        const switched = await care.switchPlacement(blob.sha256, { tier: "hot", storageKey: hotKey }, { tier: "cold", storageKey: deps.coldKey(hotKey) });
        if (!switched) return false;
        await hot.delete(hotKey);
        return true;
      });
      if (moved) {
        report.moved++;
        report.bytes += blob.size;
        metrics.movedCold(blob.size);
      } else {
        report.skipped++;
      }
      options.onProgress?.({ done: ++done, total: blobs.length, bytes: report.bytes });
    }
    report.durationMs = Math.round(performance.now() - started);
    logger.info(report, "lifecycle pass finished");
    return report;
  }

  return { run };
}

export type LifecycleService = ReturnType<typeof createLifecycle>;
