/**
 * Redis locks and single-flight against a real Redis (ASSETD_TEST_REDIS_URL, default
 * 127.0.0.1:6379): the shared contracts, then what only several processes show. Two
 * instances on two connections stand for two processes; a crash is a connection cut
 * mid-hold. Keys live under a fresh random prefix, deleted afterwards. When Redis is down
 * the suite is skipped with the reason printed.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createRedisLocks, createRedisSingleFlight, type RedisLocksOptions, type RedisSingleFlightOptions } from "../../src/locks/redis.js";
import { locksContract, singleFlightContract } from "../contract/locks.contract.js";
import { deleteKeysStartingWith, probeRedis, REDIS_URL } from "../helpers/redis.js";


const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}



const newPrefix = () => `assetd-test-${randomBytes(6).toString("hex")}:`;
const FLIGHT: RedisSingleFlightOptions = { ttlMs: 2000, pollMs: 50, waitTimeoutMs: 10_000 };

const redisSkip = await probeRedis(REDIS_URL);
if (redisSkip) console.warn(`[redis locks] skipping: ${redisSkip}`);

describe.skipIf(redisSkip !== undefined)("redis locks", () => {
  locksContract("redis", async () => {
    const prefix = newPrefix();
    const locks = createRedisLocks(REDIS_URL, { prefix, ttlMs: 2000 });
    return { subject: locks, close: async () => (await locks.close(), await deleteKeysStartingWith(prefix)) };
  });

  singleFlightContract("redis", async () => {
    const prefix = newPrefix();
    const flight = createRedisSingleFlight(REDIS_URL, { ...FLIGHT, prefix });
    return { subject: flight, close: async () => (await flight.close(), await deleteKeysStartingWith(prefix)) };
  });

  describe("across processes", () => {
    let prefix: string;
    let clients: Redis[];
    let closers: Array<() => Promise<void>>;
    /** A separate connection, as another process would have. */
    const connection = () => {
      const client = new Redis(REDIS_URL);
      client.on("error", () => {});
      clients.push(client);
      return client;
    };
    const locksOn = (client: Redis, options: RedisLocksOptions = {}) => {
      const locks = createRedisLocks(client, { prefix, ...options });
      closers.push(() => locks.close());
      return locks;
    };
    const flightOn = (client: Redis, options: Partial<RedisSingleFlightOptions> = {}) => {
      const flight = createRedisSingleFlight(client, { ...FLIGHT, prefix, ...options });
      closers.push(() => flight.close());
      return flight;
    };

    beforeEach(() => {
      prefix = newPrefix();
      clients = [];
      closers = [];
    });
    afterEach(async () => {
      await Promise.all(closers.map((close) => close()));
      for (const client of clients) client.disconnect();
      await deleteKeysStartingWith(prefix);
    });

    it("withLock excludes holders on two connections", async () => {
      const instances = [locksOn(connection()), locksOn(connection())];
      let counter = 0;
      let inside = 0;
      let peak = 0;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          instances[i % 2]!.withLock("shared", async () => {
            inside++;
            peak = Math.max(peak, inside);
            const read = counter;
            await sleep(1);
            counter = read + 1;
            inside--;
          }),
        ),
      );
      expect(counter).toBe(40);
      expect(peak).toBe(1);
    });

    it("keeps a live holder's lock past its ttl, and hands a crashed holder's lock over after it", async () => {
      const ttlMs = 300;
      const crashing = connection();
      const a = locksOn(crashing, { ttlMs });
      const b = locksOn(connection(), { ttlMs, pollMs: 50 });
      const held = deferred();
      const never = deferred();
      void a
        .withLock("crash", async () => {
          held.resolve();
          await never.promise;
        })
        .catch(() => {});
      await held.promise;

      let bInside = false;
      const bDone = b.withLock("crash", async () => void (bInside = true));
      await sleep(ttlMs * 2.5); // the watchdog renews A's lock meanwhile
      expect(bInside).toBe(false);

      crashing.disconnect(); // A's process is gone: no renewal, no release
      const crashedAt = Date.now();
      await bDone;
      expect(bInside).toBe(true);
      expect(Date.now() - crashedAt).toBeLessThan(ttlMs * 4);
      never.resolve();
    });

    it("never deletes a lock that another holder took after ours expired", async () => {
      const client = connection();
      const locks = locksOn(client);
      await locks.withLock("stolen", async () => {
        // As if our lock had expired while we stalled and someone else had taken it.
        await client.set(`${prefix}lock:stolen`, "someone-else", "PX", 5000);
      });
      expect(await client.get(`${prefix}lock:stolen`)).toBe("someone-else");
    });

    it("wakes a waiter by the release message, long before its next poll", async () => {
      const holder = locksOn(connection());
      const waiter = locksOn(connection(), { pollMs: 10_000 });
      const held = deferred();
      const release = deferred();
      const holding = holder.withLock("notify", async () => {
        held.resolve();
        await release.promise;
      });
      await held.promise;
      const waiting = waiter.withLock("notify", async () => Date.now());
      await sleep(100);
      const releasedAt = Date.now();
      release.resolve();
      await holding;
      expect((await waiting) - releasedAt).toBeLessThan(1000);
    });

    it("single-flight runs the expensive work once across 100 calls on two instances sharing a cache", async () => {
      const instances = [flightOn(connection()), flightOn(connection())];
      const cache = new Map<string, string>();
      let renders = 0;
      const render = async () => {
        const cached = cache.get("v");
        if (cached) return cached;
        renders++;
        await sleep(50);
        cache.set("v", "pixels");
        return "pixels";
      };
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => instances[i % 2]!.run("v", render)));
      expect(renders).toBe(1);
      expect(results.every((r) => r.value === "pixels")).toBe(true);
      expect(results.filter((r) => !r.collapsed)).toHaveLength(1);
    });

    it("single-flight: a waiter takes over when the leader's process dies", async () => {
      const ttlMs = 300;
      const crashing = connection();
      const leader = flightOn(crashing, { ttlMs });
      const follower = flightOn(connection(), { ttlMs });
      const started = deferred();
      const never = deferred();
      void leader
        .run("orphan", async () => {
          started.resolve();
          await never.promise;
          return "leader";
        })
        .catch(() => {});
      await started.promise;
      const following = follower.run("orphan", async () => "follower");
      await sleep(50);
      crashing.disconnect();
      expect(await following).toEqual({ value: "follower", collapsed: true });
      never.resolve();
    });

    it("single-flight: a waiter past waitTimeoutMs runs fn itself rather than fail", async () => {
      const leader = flightOn(connection());
      const impatient = flightOn(connection(), { waitTimeoutMs: 200 });
      const started = deferred();
      const finish = deferred();
      const leading = leader.run("slow", async () => {
        started.resolve();
        await finish.promise;
        return "leader";
      });
      await started.promise;
      const startedAt = Date.now();
      expect(await impatient.run("slow", async () => "impatient")).toEqual({ value: "impatient", collapsed: true });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190);
      finish.resolve();
      expect(await leading).toEqual({ value: "leader", collapsed: false });
    });
  });
});
