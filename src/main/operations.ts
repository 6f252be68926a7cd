import type { Config } from "../config/index.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Repos } from "../ports/repos.js";
import { createGc } from "../services/gc.js";
import { createScheduler } from "../services/scheduler.js";

export interface OperationsDeps {
  config: Config;
  repos: Repos;
  store: BlobStore;
  clock: Clock;
  logger: Logger;
  sweepUploads: () => Promise<{ sessions: number; multipart: number; objects: number }>;
}

/**
 * The maintenance passes and their schedule (DESIGN §10 "Operations"). Each pass is a
 * name, an interval and an idempotent run; further passes are added with `scheduler.add`.
 */
export function createOperations(deps: OperationsDeps) {
  const { config } = deps;
  const gc = createGc({
    repos: deps.repos, store: deps.store, clock: deps.clock, logger: deps.logger,
    graceMs: config.gcGraceSeconds * 1000, trashTtlMs: config.trashTtlSeconds * 1000,
    tenantIsolation: config.tenantIsolation, sweepUploads: deps.sweepUploads,
  });
  const scheduler = createScheduler({ passes: deps.repos.passes, clock: deps.clock, logger: deps.logger });
  scheduler.add({ name: "gc", intervalMs: config.gcIntervalSeconds * 1000, run: () => gc.run() });
  return { gc, scheduler };
}
