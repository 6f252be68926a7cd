import type { Clock } from "../ports/clock.js";
import type { EventLogRepo } from "../ports/repos.js";

const DAY_MS = 86_400_000;
/** Rows deleted per statement: small enough that no pass holds a long transaction. */
const BATCH = 5000;
/** Batches per pass: a backlog is worked off over several sweeps rather than in one. */
const MAX_BATCHES = 20;

export interface EventRetention {
  /** Deletes events older than the retention period; returns how many. 0 days keeps all. */
  prune(): Promise<number>;
}

/**
 * Keeps the event log bounded: every asset's history is kept for `retentionDays`, then its
 * oldest events go. The asset rows themselves (their current state) are never touched.
 */
export function createEventRetention(deps: { eventLog: EventLogRepo; clock: Clock; retentionDays: number }): EventRetention {
  return {
    async prune() {
      if (deps.retentionDays <= 0) return 0;
      const before = deps.clock.now() - deps.retentionDays * DAY_MS;
      let total = 0;
      for (let i = 0; i < MAX_BATCHES; i++) {
        const deleted = await deps.eventLog.pruneBefore(before, BATCH);
        total += deleted;
        if (deleted < BATCH) break;
      }
      return total;
    },
  };
}
