import type { CounterRepo } from "../ports/gc.js";
import type { Metrics } from "../ports/metrics.js";

/**
 * Counters of the whole deployment that outlive every process: each process adds its own
 * increments in memory and a periodic flush adds them to `stat_counter` in one batched
 * transaction, so `/v1/stats` from any process reads the sum of all of them, restarts
 * included. What this process counted but has not flushed yet is added to its own answer.
 */
export interface FleetCounters {
  add(name: FleetCounterName, amount?: number): void;
  /** Adds the pending increments to the database; on failure they stay pending. */
  flush(): Promise<void>;
  /** The deployment's totals: the database's plus this process's unflushed increments. */
  totals(): Promise<Readonly<Record<string, number>>>;
}

export type FleetCounterName =
  | "variant_hits" | "variant_misses" | "variant_renders"
  | "uploads" | "uploads_deduplicated" | "ingested_bytes" | "deduplicated_bytes";

export function createFleetCounters(repo: CounterRepo): FleetCounters {
  let pending = new Map<string, number>();
  let chain: Promise<void> = Promise.resolve();

  const merge = (into: Map<string, number>, from: ReadonlyMap<string, number>) => {
    for (const [name, value] of from) into.set(name, (into.get(name) ?? 0) + value);
  };

  async function flushOnce(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      await repo.add(batch);
    } catch (error) {
      merge(pending, batch);
      throw error;
    }
  }

  return {
    add(name, amount = 1) {
      if (amount !== 0) pending.set(name, (pending.get(name) ?? 0) + amount);
    },
    flush() {
      // One flush at a time: a batch is never added twice, nor skipped by a later flush.
      const next = chain.then(flushOnce);
      chain = next.catch(() => undefined);
      return next;
    },
    async totals() {
      const stored = await repo.all();
      // A batch being flushed is left out for the moment it takes (it is in neither place
      // for sure); what is pending after the read is surely not in the database yet.
      const totals: Record<string, number> = { ...stored };
      for (const [name, value] of pending) totals[name] = (totals[name] ?? 0) + value;
      return totals;
    },
  };
}

/** The metrics port, also counting the fleet-wide figures `/v1/stats` reports. */
export function countingInto(metrics: Metrics, counters: FleetCounters): Metrics {
  return {
    ...metrics,
    variantHit() {
      counters.add("variant_hits");
      metrics.variantHit();
    },
    variantMiss() {
      counters.add("variant_misses");
      metrics.variantMiss();
    },
    variantRendered(seconds, format, source) {
      counters.add("variant_renders");
      metrics.variantRendered(seconds, format, source);
    },
    ingested(bytes, deduplicated) {
      counters.add("uploads");
      counters.add("ingested_bytes", bytes);
      if (deduplicated) {
        counters.add("uploads_deduplicated");
        counters.add("deduplicated_bytes", bytes);
      }
      metrics.ingested(bytes, deduplicated);
    },
  };
}
