import { describe, expect, it } from "vitest";
import { countingInto, createFleetCounters } from "./fleet-counters.js";
import { noopMetrics } from "../ports/metrics.js";

function memoryRepo() {
  const values = new Map<string, number>();
  let failNext = false;
  const adds: Array<Record<string, number>> = [];
  return {
    values, adds,
    failOnce: () => (failNext = true),
    async add(deltas: ReadonlyMap<string, number>) {
      await new Promise((r) => setTimeout(r, 5));
      if (failNext) {
        failNext = false;
        throw new Error("database unavailable");
      }
      adds.push(Object.fromEntries(deltas));
      for (const [name, value] of deltas) values.set(name, (values.get(name) ?? 0) + value);
    },
    async all() {
      return Object.fromEntries(values);
    },
  };
}

describe("fleet counters", () => {
  it("adds a process's increments to the stored totals in one batch per flush", async () => {
    const repo = memoryRepo();
    repo.values.set("variant_hits", 10);
    const counters = createFleetCounters(repo);
    const metrics = countingInto(noopMetrics, counters);
    metrics.variantHit();
    metrics.variantHit();
    metrics.variantMiss();
    metrics.variantRendered(0.1, "png");
    metrics.ingested(100, false);
    metrics.ingested(100, true);
    expect(await counters.totals()).toEqual({
      variant_hits: 12, variant_misses: 1, variant_renders: 1, uploads: 2, ingested_bytes: 200, uploads_deduplicated: 1, deduplicated_bytes: 100,
    });
    await counters.flush();
    expect(repo.adds).toHaveLength(1);
    expect(repo.values.get("variant_hits")).toBe(12);
    await counters.flush();
    expect(repo.adds).toHaveLength(1);
    expect((await counters.totals()).variant_hits).toBe(12);
  });

  it("keeps a batch the database refused for the next flush, and never adds one twice", async () => {
    const repo = memoryRepo();
    const counters = createFleetCounters(repo);
    counters.add("variant_hits", 3);
    repo.failOnce();
    await expect(counters.flush()).rejects.toThrow(/unavailable/);
    counters.add("variant_hits");
    await Promise.all([counters.flush(), counters.flush()]);
    expect(repo.values.get("variant_hits")).toBe(4);
    expect(await counters.totals()).toEqual({ variant_hits: 4 });
  });
});
