import type { Kysely } from "kysely";
import type { Logger as PinoLogger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../config/index.js";
import { createBlobCareRepo } from "../db/repos/blob-care.js";
import type { Database } from "../db/schema.js";
import { createCareMetrics } from "../observability/care-metrics.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { JobHandler, JobQueue } from "../ports/job-queue.js";
import type { Locks } from "../ports/locks.js";
import type { Repos } from "../ports/repos.js";
import { createLifecycle } from "../services/lifecycle.js";
import { createReadRecorder } from "../services/read-recorder.js";
import { createReplication, type Replication } from "../services/replication.js";
import { createScrub } from "../services/scrub.js";
import { createStoreCareService, type StoreCareService } from "../services/store-care.js";
import { createStoreLayers, type StoreLayers } from "../storage/layers.js";

/** Last-read times are written at most this often. */
const READ_FLUSH_MS = 5_000;

export interface StoreCare {
  /** The store every service uses: tiers, replica failover and read tracking included. */
  store: BlobStore;
  layers: StoreLayers;
  service: StoreCareService;
  replicate: JobHandler<"replicate">;
  /** For ingest: queue the replica's copy of new content. */
  onNewContent: ((sha256: string) => Promise<void>) | undefined;
  /**
   * The worker role's schedule: each pass on its interval, one runner cluster-wide (the
   * pass holds a named lock; Redis locks when several processes share the work).
   */
  startSchedule(): void;
  /** Writes the reads recorded so far (they are written every few seconds anyway). */
  flushReads(): Promise<void>;
  close(): Promise<void>;
}

export async function createStoreCare(config: Config, hot: BlobStore, deps: {
  db: Kysely<Database>; repos: Repos; queue: JobQueue; locks: Locks; registry: Registry; clock: Clock; logger: PinoLogger;
}): Promise<StoreCare> {
  const { repos, queue, locks, clock, logger } = deps;
  const care = createBlobCareRepo(deps.db);
  const metrics = createCareMetrics(deps.registry);
  const reads = createReadRecorder({ care, clock });
  let replication: Replication | undefined;
  const layers = await createStoreLayers(hot, config, {
    onFailover: (sha256, reason) => {
      metrics.failover(reason);
      replication?.repairLater(sha256);
    },
    onRead: reads.read,
  }, logger);
  if (layers.replica) {
    replication = createReplication({ repos, care, primary: layers.primary, replica: layers.replica, queue, metrics, clock, logger });
  }
  const scrub = createScrub({
    repos, care, primary: layers.primary, bytesPerSecond: config.scrubBytesPerSecond, metrics, clock, logger,
    replica: layers.replica && replication ? { store: layers.replica, replication } : undefined,
  });
  const lifecycle = layers.cold
    ? createLifecycle({ care, hot, cold: layers.cold, coldKey: layers.coldKey, coldAfterDays: config.coldAfterDays, locks, metrics, clock, logger })
    : undefined;
  const service = createStoreCareService({ repos, care, scrub, lifecycle });

  const timers: NodeJS.Timeout[] = [];
  const flushTimer = setInterval(() => {
    reads.flush().catch((error: unknown) => logger.warn({ err: error }, "could not record blob reads"));
  }, READ_FLUSH_MS);
  flushTimer.unref();

  function every(seconds: number, name: string, pass: () => Promise<unknown>): void {
    if (seconds <= 0) return;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      locks.withLock(`pass:${name}`, pass)
        .catch((error: unknown) => logger.warn({ err: error, pass: name }, "scheduled pass failed"))
        .finally(() => { running = false; });
    }, seconds * 1000);
    timer.unref();
    timers.push(timer);
  }

  return {
    store: layers.store, layers, service,
    replicate: replication ? (payload) => replication!.job(payload) : async () => {},
    onNewContent: replication ? (sha256) => replication!.replicateLater(sha256) : undefined,
    startSchedule() {
      every(config.scrubIntervalSeconds, "scrub", () => scrub.run());
      if (lifecycle) every(config.lifecycleIntervalSeconds, "lifecycle", () => lifecycle.run());
    },
    flushReads: () => reads.flush(),
    async close() {
      clearInterval(flushTimer);
      for (const timer of timers) clearInterval(timer);
      await reads.flush().catch(() => {});
      await layers.close();
    },
  };
}
