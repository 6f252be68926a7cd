import { ExpiringLru } from "../domain/expiring-lru.js";
import type { Grant } from "../domain/grants.js";
import type { Broadcast } from "../ports/broadcast.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { AssetRow, Repos } from "../ports/repos.js";

/** The pub/sub topic of asset changes (channel `<ASSETD_REDIS_PREFIX>:asset-invalidate`); a message is an asset id. */
export const ASSET_INVALIDATE_TOPIC = "asset-invalidate";

/**
 * What delivery reads of an asset on every request, to decide (for each caller anew)
 * whether it may have the bytes and which bytes they are: the row without tags (status,
 * owner, `public`, content hash and type, meta) and every grant on it.
 */
export interface DeliveryFacts {
  readonly asset: AssetRow;
  readonly grants: readonly Grant[];
}

export interface AssetMetaDeps {
  repos: { assets: Pick<Repos["assets"], "get">; acl: Pick<Repos["acl"], "list"> };
  clock: Clock;
  /** Tells the other processes of a deployment (Redis pub/sub at scale; in-process otherwise). */
  broadcast: Pick<Broadcast, "publish">;
  metrics: Pick<Metrics, "metaCacheLookup" | "metaCacheInvalidated">;
  logger: Logger;
  /** ASSETD_META_CACHE_SIZE: assets held; 0 turns the cache off. */
  maxEntries: number;
  /** ASSETD_META_CACHE_TTL_MS: the longest an entry is used, whatever was announced. */
  ttlMs: number;
}

/**
 * The hot-metadata cache: delivery's facts of recently requested assets, in this process.
 * A change committed here drops its entry before the writer's call returns (the repos are
 * wrapped: services/asset-invalidation.ts) and is announced to the other processes, which
 * drop theirs when the message arrives. A lost message (Redis down, a reconnect) is bounded
 * by the TTL: no entry outlives `ttlMs` from the read that filled it. After a reconnect
 * (messages may have been missed) everything is dropped.
 *
 * It caches inputs to the access rule, never a decision: every request is still checked
 * against the caller (services/assets.ts `findForDelivery`).
 */
export function createAssetMeta(deps: AssetMetaDeps) {
  const { repos, clock, broadcast, metrics, logger } = deps;
  const cache = new ExpiringLru<string, DeliveryFacts>(deps.maxEntries, deps.ttlMs);
  // Concurrent misses of one asset share one read; an invalidation forgets the shared read,
  // so a request arriving after a change never waits for a read that began before it.
  const reading = new Map<string, Promise<DeliveryFacts | undefined>>();
  const counters = { hits: 0, misses: 0 };

  async function read(id: string): Promise<DeliveryFacts | undefined> {
    const fill = cache.begin(id, clock.now());
    try {
      const [asset, grants] = await Promise.all([repos.assets.get(id, { tags: false }), repos.acl.list(id)]);
      if (!asset) {
        cache.abandon(fill);
        return undefined;
      }
      const facts = { asset, grants };
      cache.complete(fill, facts, clock.now());
      return facts;
    } catch (error) {
      cache.abandon(fill);
      throw error;
    }
  }

  function forget(id: string): void {
    cache.invalidate(id);
    reading.delete(id);
  }

  return {
    /** The asset's delivery facts; undefined when there is no such asset. */
    async facts(id: string): Promise<DeliveryFacts | undefined> {
      const cached = cache.get(id, clock.now());
      if (cached) {
        counters.hits++;
        metrics.metaCacheLookup("hit");
        return cached;
      }
      counters.misses++;
      metrics.metaCacheLookup("miss");
      const shared = reading.get(id);
      if (shared) return shared;
      const promise = read(id).finally(() => {
        if (reading.get(id) === promise) reading.delete(id);
      });
      reading.set(id, promise);
      return promise;
    },

    /**
     * A change to the asset was committed by this process: dropped here at once, then
     * announced. Announcing is best effort and never fails the change (the TTL covers a
     * lost message).
     */
    changed(id: string): void {
      forget(id);
      metrics.metaCacheInvalidated("local");
      broadcast.publish(ASSET_INVALIDATE_TOPIC, id).catch((error: unknown) => {
        logger.warn({ err: error, assetId: id }, "could not announce an asset change; other processes see it within the metadata cache TTL");
      });
    },

    /** A change announced by some process (this one included). */
    announced(id: string): void {
      forget(id);
      metrics.metaCacheInvalidated("remote");
    },

    /** Announcements may have been missed (the subscription reconnected): drop everything. */
    forgetAll(): void {
      cache.clear();
      reading.clear();
    },

    /** Lookups answered by this process since it started. */
    counters: () => ({ ...counters, entries: cache.size }),
  };
}

export type AssetMeta = ReturnType<typeof createAssetMeta>;
