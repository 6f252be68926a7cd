import type { Redis } from "ioredis";
import type { Clock } from "../ports/clock.js";
import { secondsToNextWindow, WINDOW_MS, type RenderBudget } from "../ports/render-budget.js";

export interface RenderBudgetOptions {
  /** Render seconds per client per minute. */
  secondsPerMinute: number;
  clock: Clock;
}

/** One process: a counter per client for the current minute, older minutes dropped. */
export function createMemoryRenderBudget(options: RenderBudgetOptions): RenderBudget {
  const { secondsPerMinute, clock } = options;
  let window = -1;
  let spent = new Map<string, number>();
  // Only the current minute counts: a new minute starts every client at zero, and the map
  // never holds more clients than rendered within one minute.
  const current = () => {
    const now = clock.now();
    const w = Math.floor(now / WINDOW_MS);
    if (w !== window) {
      window = w;
      spent = new Map();
    }
    return now;
  };
  return {
    async retryAfter(client) {
      const now = current();
      return (spent.get(client) ?? 0) >= secondsPerMinute ? secondsToNextWindow(now) : 0;
    },
    async charge(client, seconds) {
      current();
      spent.set(client, (spent.get(client) ?? 0) + seconds);
    },
  };
}

export interface RedisRenderBudgetOptions extends RenderBudgetOptions {
  /** Key namespace; counters live at `<prefix>render:<minute>:<client>`. */
  prefix: string;
}

/**
 * Several processes: one Redis counter per client and minute (INCRBYFLOAT), expiring
 * after its minute has passed, so the budget holds across every API process.
 */
export function createRedisRenderBudget(redis: Redis, options: RedisRenderBudgetOptions): RenderBudget {
  const { secondsPerMinute, clock, prefix } = options;
  const keyAt = (client: string, now: number) => `${prefix}render:${Math.floor(now / WINDOW_MS)}:${client}`;
  return {
    async retryAfter(client) {
      const now = clock.now();
      const spent = Number((await redis.get(keyAt(client, now))) ?? 0);
      return spent >= secondsPerMinute ? secondsToNextWindow(now) : 0;
    },
    async charge(client, seconds) {
      const key = keyAt(client, clock.now());
      await redis.multi().incrbyfloat(key, seconds).pexpire(key, 2 * WINDOW_MS).exec();
    },
  };
}
