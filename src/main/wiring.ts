import { Redis } from "ioredis";
import type { Logger as PinoLogger } from "pino";
import type { Config } from "../config/index.js";
import type { DatabaseHandle } from "../db/connect.js";
import { createMemoryBroadcast } from "../locks/memory-broadcast.js";
import { createMemoryLocks, createMemorySingleFlight } from "../locks/memory.js";
import { createRedisLocks, createRedisSingleFlight } from "../locks/redis.js";
import { createMemoryRenderBudget, createRedisRenderBudget } from "../locks/render-budget.js";
import { systemClock } from "../ports/clock.js";
import type { JobContext, JobHandlers, JobName, JobQueue } from "../ports/job-queue.js";
import type { Locks, SingleFlight } from "../ports/locks.js";
import type { Metrics } from "../ports/metrics.js";
import type { RenderBudget } from "../ports/render-budget.js";
import type { Broadcast } from "../ports/broadcast.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Repos } from "../ports/repos.js";
import { ASSET_INVALIDATE_TOPIC, createAssetMeta, type AssetMeta } from "../services/asset-meta.js";
import { withAssetInvalidation } from "../services/asset-invalidation.js";
import { createBullQueue } from "../queue/bullmq.js";
import { createEmbeddedQueue } from "../queue/embedded.js";

/** Parts of the composition root (main.ts) that pick coordination backends and wrap job handlers. */

export interface Coordination {
  queue: JobQueue;
  locks: Locks;
  singleFlight: SingleFlight;
  close(): Promise<void>;
}

/**
 * Jobs, locks and miss-collapsing: in-process and in the database for one process, Redis
 * (BullMQ, SET NX locks with pub/sub wake-ups) when several processes share the work.
 */
export function createCoordination(config: Config, database: DatabaseHandle, logger: PinoLogger): Coordination {
  if (!config.redisUrl) {
    return {
      queue: createEmbeddedQueue(database.db, database.dialect, {
        clock: systemClock, logger, defaultMaxAttempts: config.jobMaxAttempts, leaseMs: config.jobLeaseMs,
      }),
      locks: createMemoryLocks(),
      singleFlight: createMemorySingleFlight(),
      close: async () => {},
    };
  }
  const prefix = config.redisPrefix;
  const queue = createBullQueue({
    redisUrl: config.redisUrl, prefix, logger, defaultMaxAttempts: config.jobMaxAttempts, leaseMs: config.jobLeaseMs,
  });
  const locks = createRedisLocks(config.redisUrl, { prefix: `${prefix}:`, logger });
  // A render holds its lock while it runs; waiters give up waiting (and render themselves)
  // only after far longer than any render should take.
  const singleFlight = createRedisSingleFlight(config.redisUrl, {
    prefix: `${prefix}:`, ttlMs: 30_000, pollMs: 250, waitTimeoutMs: 120_000, logger,
  });
  return {
    queue, locks, singleFlight,
    async close() {
      await Promise.all([queue.close(), locks.close(), singleFlight.close()]);
    },
  };
}

export interface ClientLimits {
  /** Counts requests for the rate limiter when several processes share Redis. */
  redis: Redis | undefined;
  renderBudget: RenderBudget | undefined;
  close(): Promise<void>;
}

/**
 * Per-client request limits and render budgets (API role only): in this process for the
 * embedded default, in Redis when several processes must hold one limit together.
 */
export function createClientLimits(config: Config, api: boolean): ClientLimits {
  const wanted = api && (config.rateLimitPerMinute > 0 || config.renderBudgetSeconds > 0);
  // Few retries: a limiter that cannot reach Redis lets requests through rather than stall them.
  const redis = wanted && config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
  const budget = { secondsPerMinute: config.renderBudgetSeconds, clock: systemClock };
  const renderBudget = !api || config.renderBudgetSeconds <= 0
    ? undefined
    : redis ? createRedisRenderBudget(redis, { ...budget, prefix: `${config.redisPrefix}:` }) : createMemoryRenderBudget(budget);
  return {
    redis, renderBudget,
    async close() {
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The repos every service of this process uses, with the hot-metadata cache behind them:
 * each write to an asset's row or grants invalidates its entry (and is announced on
 * `broadcast`, Redis pub/sub at scale; in this process only without Redis), and
 * announcements from every process are heard.
 * With ASSETD_META_CACHE_SIZE=0 there is no cache and the repos are returned as they are.
 */
export async function withHotMetadata(
  config: Pick<Config, "metaCacheSize" | "metaCacheTtlMs">, repos: Repos,
  deps: { broadcast: Broadcast | undefined; clock: Clock; metrics: Metrics; logger: Logger },
): Promise<{ repos: Repos; assetMeta: AssetMeta | undefined }> {
  if (config.metaCacheSize <= 0) return { repos, assetMeta: undefined };
  const broadcast = deps.broadcast ?? createMemoryBroadcast();
  const assetMeta = createAssetMeta({ repos, ...deps, broadcast, maxEntries: config.metaCacheSize, ttlMs: config.metaCacheTtlMs });
  await broadcast.subscribe(ASSET_INVALIDATE_TOPIC, assetMeta.announced, assetMeta.forgetAll);
  return { repos: withAssetInvalidation(repos, assetMeta.changed), assetMeta };
}

/** Reports each job's outcome and duration to the metrics. */
export function instrument(handlers: JobHandlers, metrics: Metrics): JobHandlers {
  type AnyHandler = (payload: unknown, ctx: JobContext) => Promise<void>;
  const wrapped: Record<string, AnyHandler> = {};
  for (const name of Object.keys(handlers) as JobName[]) {
    const handler = handlers[name] as AnyHandler;
    wrapped[name] = async (payload, ctx) => {
      const started = performance.now();
      try {
        await handler(payload, ctx);
        metrics.jobFinished(name, "done", (performance.now() - started) / 1000);
      } catch (error) {
        metrics.jobFinished(name, "failed", (performance.now() - started) / 1000);
        throw error;
      }
    };
  }
  return wrapped as unknown as JobHandlers;
}
