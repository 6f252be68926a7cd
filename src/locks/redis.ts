import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { Locks, SingleFlight } from "../ports/locks.js";
import { silentLogger, type Logger } from "../ports/logger.js";
import { createMemoryLocks } from "./memory.js";

/**
 * Cluster-wide locks and miss collapsing on Redis (DESIGN §2: "single-flight / locks: Redis"
 * when several processes share one store).
 *
 * A lock is one key set with `SET NX PX` to a random token. Its holder renews the expiry
 * while it works (a watchdog), so a live holder keeps it however long it takes and a
 * crashed one loses it after `ttlMs`. Release is compare-and-delete in Lua: a holder whose
 * lock already expired (it stalled) never deletes the next holder's lock. Release also
 * publishes the key, so waiters retry at once instead of at their next poll; the poll stays
 * as the fallback for lost messages and expired locks (which publish nothing).
 */

export interface RedisLocksOptions {
  /** Lock expiry without renewal: how long a crashed holder blocks others. */
  ttlMs?: number;
  /** Longest pause between two tries while waiting (jittered), when no release message comes. */
  pollMs?: number;
  /** Key namespace; locks live at `<prefix>lock:<name>`. */
  prefix?: string;
  logger?: Logger;
}

export interface RedisSingleFlightOptions {
  ttlMs: number;
  pollMs: number;
  /**
   * How long a caller waits for another process's run before running `fn` itself, without
   * the lock: a slow leader costs duplicate work, never a failed request.
   */
  waitTimeoutMs: number;
  /** Key namespace; leaders hold `<prefix>sf:<key>`. */
  prefix?: string;
  logger?: Logger;
}

/** Owns its connections: close() ends the subscriber (and the client when built from a URL). */
export interface RedisLocks extends Locks {
  close(): Promise<void>;
}

export interface RedisSingleFlight extends SingleFlight {
  close(): Promise<void>;
}

const DEFAULT_PREFIX = "assetd:";

/** Exclusive, cross-process `withLock`. Within a process, callers queue in memory first. */
export function createRedisLocks(redis: Redis | string, options: RedisLocksOptions = {}): RedisLocks {
  const leases = new Leases(redis, {
    ttlMs: options.ttlMs ?? 30_000,
    pollMs: options.pollMs ?? 100,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    logger: options.logger ?? silentLogger,
  });
  // One contender per name per process reaches Redis; the others wait their turn here.
  const local = createMemoryLocks();
  return {
    withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      return local.withLock(name, async () => {
        const lease = await leases.acquire(`lock:${name}`, Infinity);
        return leases.holding(lease!, fn);
      });
    },
    close: () => leases.close(),
  };
}

/**
 * Cluster-wide miss collapsing. In a process, concurrent callers share one promise. Across
 * processes, the first takes the lock `sf:<key>` and runs `fn`; the others wait for its
 * release and then run `fn` themselves, under the lock, one process at a time. Values are
 * not serialisable in general, so they are not passed between processes: callers make
 * `fn` read the cache first (delivery re-reads the variant cache before rendering), and so
 * the expensive work runs once. Callers that waited on another holder, local or remote,
 * get `collapsed: true`. A crashed leader's lock expires after `ttlMs` and a waiter takes over.
 */
export function createRedisSingleFlight(redis: Redis | string, options: RedisSingleFlightOptions): RedisSingleFlight {
  const logger = options.logger ?? silentLogger;
  const leases = new Leases(redis, { ttlMs: options.ttlMs, pollMs: options.pollMs, prefix: options.prefix ?? DEFAULT_PREFIX, logger });
  const inFlight = new Map<string, Promise<{ value: unknown; waited: boolean }>>();

  async function lead<T>(key: string, fn: () => Promise<T>): Promise<{ value: T; waited: boolean }> {
    const lease = await leases.acquire(`sf:${key}`, Date.now() + options.waitTimeoutMs);
    if (!lease) {
      logger.warn({ key, waitTimeoutMs: options.waitTimeoutMs }, "single-flight: another process holds this key too long; running without it");
      return { value: await fn(), waited: true };
    }
    return { value: await leases.holding(lease, fn), waited: lease.waited };
  }

  return {
    async run<T>(key: string, fn: () => Promise<T>) {
      const existing = inFlight.get(key) as Promise<{ value: T; waited: boolean }> | undefined;
      if (existing) return { value: (await existing).value, collapsed: true };
      const promise = lead(key, fn).finally(() => inFlight.delete(key));
      inFlight.set(key, promise);
      const { value, waited } = await promise;
      return { value, collapsed: waited };
    },
    close: () => leases.close(),
  };
}

interface Lease {
  key: string;
  token: string;
  /** True when someone else held the lock when we first asked. */
  waited: boolean;
}

interface LeaseOptions {
  ttlMs: number;
  pollMs: number;
  prefix: string;
  logger: Logger;
}

/** Renews the expiry only while the caller's token is still the value. */
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * Deletes only our own lock, and tells waiters: ARGV[2] is the channel, ARGV[3] the key as
 * waiters know it (KEYS[1] may carry a client-side ioredis keyPrefix; channels never do).
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
`;

/** Token-guarded leases on keys under one prefix, with release notifications. */
class Leases {
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly notifier: ReleaseNotifier;

  constructor(
    redis: Redis | string,
    private readonly options: LeaseOptions,
  ) {
    this.ownsClient = typeof redis === "string";
    this.client = typeof redis === "string" ? new Redis(redis) : redis;
    if (this.ownsClient) this.client.on("error", (error) => options.logger.warn({ err: error }, "locks: redis connection error"));
    this.notifier = new ReleaseNotifier(this.client, `${options.prefix}released`, options.logger);
  }

  /** Waits until the lock is ours, or until `deadline` (then undefined). */
  async acquire(name: string, deadline: number): Promise<Lease | undefined> {
    const key = this.options.prefix + name;
    const token = randomBytes(16).toString("hex");
    let waited = false;
    let waiter: Waiter | undefined;
    try {
      for (;;) {
        if ((await this.client.set(key, token, "PX", this.options.ttlMs, "NX")) === "OK") return { key, token, waited };
        waited = true;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return undefined;
        if (!waiter) {
          // Subscribed before the next try, so a release after that try cannot go unheard.
          waiter = await this.notifier.waiter(key);
          continue;
        }
        const ttl = await this.client.pttl(key);
        if (ttl === -2) continue; // gone already
        // Jittered so that processes polling one key do not retry in lockstep.
        const pause = Math.min(remaining, this.options.pollMs * (0.5 + Math.random()), ttl > 0 ? ttl + 1 : Infinity);
        await waiter.wait(pause);
      }
    } finally {
      waiter?.dispose();
    }
  }

  /** Runs `fn` while renewing the lease, then releases it. */
  async holding<T>(lease: Lease, fn: () => Promise<T>): Promise<T> {
    const { ttlMs, logger } = this.options;
    let lost = false;
    const watchdog = setInterval(() => {
      this.client.eval(EXTEND, 1, lease.key, lease.token, ttlMs).then(
        (extended) => {
          if (Number(extended) === 1 || lost) return;
          lost = true;
          logger.error({ key: lease.key }, "locks: lock expired while held (the holder stalled past its ttl); another holder may be running");
        },
        (error: unknown) => logger.warn({ err: error, key: lease.key }, "locks: could not renew a lock"),
      );
    }, Math.max(10, Math.floor(ttlMs / 3)));
    watchdog.unref();
    try {
      return await fn();
    } finally {
      clearInterval(watchdog);
      // A failed release is not the caller's failure: the lock expires after ttlMs anyway.
      await this.client.eval(RELEASE, 1, lease.key, lease.token, this.notifier.channel, lease.key).catch((error: unknown) => {
        logger.warn({ err: error, key: lease.key }, "locks: could not release a lock; it expires on its own");
      });
    }
  }

  async close(): Promise<void> {
    await this.notifier.close();
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }
}

interface Waiter {
  /** Resolves on a release of the key (also one that came since the last wait) or after `ms`. */
  wait(ms: number): Promise<void>;
  dispose(): void;
}

/** One subscriber connection per Leases, opened on the first wait; fans messages out by key. */
class ReleaseNotifier {
  private subscriber: Redis | undefined;
  private subscribed: Promise<unknown> | undefined;
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(
    private readonly client: Redis,
    readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async waiter(key: string): Promise<Waiter> {
    if (!this.subscriber) {
      const subscriber = this.client.duplicate();
      subscriber.on("error", (error) => this.logger.warn({ err: error }, "locks: release subscriber error"));
      subscriber.on("message", (_channel: string, released: string) => {
        for (const wake of this.wakers.get(released) ?? []) wake();
      });
      this.subscriber = subscriber;
      this.subscribed = subscriber.subscribe(this.channel);
    }
    let pending = false;
    let resolve: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const wake = () => {
      if (!resolve) {
        pending = true;
        return;
      }
      clearTimeout(timer);
      const done = resolve;
      resolve = undefined;
      done();
    };
    const set = this.wakers.get(key) ?? new Set();
    set.add(wake);
    this.wakers.set(key, set);
    // Without the subscription the waiter still works, by polling.
    await this.subscribed!.catch((error: unknown) => this.logger.warn({ err: error }, "locks: could not subscribe to release messages; polling"));
    return {
      wait: (ms) => {
        if (pending) {
          pending = false;
          return Promise.resolve();
        }
        return new Promise<void>((done) => {
          resolve = done;
          timer = setTimeout(wake, ms);
        });
      },
      dispose: () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.wakers.get(key) === set) this.wakers.delete(key);
      },
    };
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
