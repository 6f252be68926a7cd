import { demandDay } from "../domain/prewarm.js";
import type { Clock } from "../ports/clock.js";
import type { DemandCount, PrewarmRepo } from "../ports/prewarm.js";

/** Distinct (owner, kind, recipe, day) counts remembered between flushes at most; beyond that a flush is due early. */
const MAX_PENDING = 20_000;

/**
 * Counts variant requests per owner, asset kind and canonical recipe (the access
 * statistics prewarm predicts from), in memory, written in one batch per flush: delivery
 * never waits on a write for it. A crash loses at most one interval's counts, which only
 * makes a prediction a little less informed.
 */
export function createDemandRecorder(deps: { repo: Pick<PrewarmRepo, "recordDemand">; clock: Clock }) {
  let pending = new Map<string, DemandCount>();
  let flushing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    if (flushing) return flushing;
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    flushing = deps.repo.recordDemand([...batch.values()]).catch((error: unknown) => {
      // Put the batch back (added to what arrived meanwhile) and let the next flush try again.
      for (const [key, count] of batch) {
        const now = pending.get(key);
        if (now) now.count += count.count;
        else pending.set(key, count);
      }
      throw error;
    }).finally(() => { flushing = undefined; });
    return flushing;
  }

  return {
    /** One request of `recipe` (canonical) on an asset of `owner` and `kind`. */
    record(owner: string, kind: string, recipe: string): void {
      const day = demandDay(deps.clock.now());
      const key = JSON.stringify([owner, kind, recipe, day]);
      const entry = pending.get(key);
      if (entry) {
        entry.count++;
        return;
      }
      if (pending.size >= MAX_PENDING) flush().catch(() => {});
      pending.set(key, { owner, kind, recipe, day, count: 1 });
    },
    flush,
  };
}

export type DemandRecorder = ReturnType<typeof createDemandRecorder>;
