import { AppError } from "../domain/errors.js";
import type { CpuBudget, CpuRunOptions, CpuSlot } from "../ports/cpu-budget.js";

export interface CpuBudgetOptions {
  /** Tasks running at once. */
  slots: number;
  /**
   * Requests (callers that are not `patient`) allowed to wait once as many requests as
   * there are slots are running; the next one is refused. Default: no bound.
   */
  maxWaiting?: number;
}

interface HeldSlot extends CpuSlot {
  held: boolean;
}

/**
 * A counting semaphore with a bounded wait queue. libvips runs one thread per operation
 * here (PLATFORM.md), so throughput comes from parallel operations and memory from
 * bounding them; ffmpeg and ffprobe are processes with their own memory, so a burst must
 * not start hundreds at once. Requests are admitted up to `slots + maxWaiting` at a time
 * and turned away with 503 beyond that instead of piling up memory and latency; background
 * work takes slots like any other but never counts against that bound, so a request may
 * wait behind a job yet is refused only because of other requests.
 */
export function createCpuBudget(options: CpuBudgetOptions): CpuBudget & { readonly active: number; readonly queued: number } {
  const { slots } = options;
  const maxWaiting = options.maxWaiting ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${slots}`);
  if (!(maxWaiting >= 0)) throw new RangeError(`maxWaiting must be 0 or more, got ${maxWaiting}`);
  let active = 0;
  /** Requests admitted: running or waiting. */
  let requests = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    // Hand the slot straight to the next waiter so `active` never dips and overshoots.
    if (next) next();
    else active--;
  };

  function acquire(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (active < slots) {
      active++;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = waiting.indexOf(start);
        if (at === -1) return;
        waiting.splice(at, 1);
        reject(signal!.reason);
      };
      waiting.push(start);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  const budget = {
    get active() {
      return active;
    },
    get queued() {
      return waiting.length;
    },
    async run<T>(task: (slot: CpuSlot) => Promise<T>, options: CpuRunOptions = {}): Promise<T> {
      const { signal, within } = options;
      signal?.throwIfAborted();
      if (within && within.budget === budget && (within as HeldSlot).held) return task(within);
      const request = options.patient !== true;
      if (request) {
        if (requests >= slots + maxWaiting) {
          throw new AppError("overloaded", "too many transforms in progress; retry shortly", { retryAfter: 1 });
        }
        requests++;
      }
      try {
        const wait = acquire(signal);
        if (wait) await wait;
        const slot: HeldSlot = { budget, held: true };
        try {
          // It may have waited: the caller may be gone by now.
          signal?.throwIfAborted();
          return await task(slot);
        } finally {
          slot.held = false;
          release();
        }
      } finally {
        if (request) requests--;
      }
    },
  };
  return budget;
}
