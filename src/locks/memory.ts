import type { Locks, SingleFlight } from "../ports/locks.js";

/** In-process keyed mutex: correct for one process (the embedded default). */
export function createMemoryLocks(): Locks {
  const tails = new Map<string, Promise<void>>();
  return {
    async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => mine);
      tails.set(name, tail);
      await previous;
      try {
        return await fn();
      } finally {
        release();
        if (tails.get(name) === tail) tails.delete(name);
      }
    },
  };
}

/** In-process miss collapsing: concurrent callers with one key share one promise. */
export function createMemorySingleFlight(): SingleFlight {
  const inFlight = new Map<string, Promise<unknown>>();
  return {
    async run<T>(key: string, fn: () => Promise<T>) {
      const existing = inFlight.get(key) as Promise<T> | undefined;
      if (existing) return { value: await existing, collapsed: true };
      const promise = fn().finally(() => inFlight.delete(key));
      inFlight.set(key, promise);
      return { value: await promise, collapsed: false };
    },
  };
}
