import { KeyedMutex } from "../ports/keyed-mutex.js";
import type { Locks, SingleFlight } from "../ports/locks.js";

/** In-process locks: correct for one process (the embedded default). */
export function createMemoryLocks(): Locks {
  const mutex = new KeyedMutex();
  return {
    withLock: (name, fn) => mutex.run(name, fn),
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
