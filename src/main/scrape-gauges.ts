import type { Logger } from "pino";
import type { MetricsRegistry } from "../observability/metrics.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { Repos } from "../ports/repos.js";
import type { StatusService } from "../services/status.js";

/**
 * The gauges filled at scrape time: queue depths (dead letters among them), dedup savings,
 * stored originals by tier and readiness. A failing source leaves its gauges as they were
 * (readiness then reads 0), so one slow dependency never fails the whole scrape.
 */
export function fillGaugesAtScrape(registry: MetricsRegistry, sources: {
  queue: Pick<JobQueue, "depth">;
  repos: Pick<Repos, "stats">;
  status: Pick<StatusService, "readiness">;
  usageByTier: () => Promise<Record<string, { blobs: number; bytes: number }>>;
  logger: Pick<Logger, "warn">;
}): void {
  const guarded = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      sources.logger.warn({ err: error }, `metrics: could not read ${what}`);
    }
  };
  registry.onCollect(async () => {
    await guarded("the queue depths", async () => {
      const depth = await sources.queue.depth();
      for (const [name, counts] of Object.entries(depth)) {
        for (const [state, count] of Object.entries(counts)) registry.queueDepth.set({ queue: name, state }, count);
      }
    });
    await guarded("the dedup savings", async () => {
      const stats = await sources.repos.stats();
      registry.dedupSavedBytes.set(Math.max(0, stats.logicalBytes - stats.physicalBytes));
    });
    await guarded("the storage by tier", async () => {
      for (const [tier, usage] of Object.entries(await sources.usageByTier())) {
        registry.storedBytes.set({ tier }, usage.bytes);
        registry.storedBlobs.set({ tier }, usage.blobs);
      }
    });
    const readiness = await sources.status.readiness(null).catch(() => ({ ready: false, checks: {} }));
    registry.ready.set(readiness.ready ? 1 : 0);
    for (const [check, { ok }] of Object.entries(readiness.checks)) registry.dependencyUp.set({ check }, ok ? 1 : 0);
  });
}
