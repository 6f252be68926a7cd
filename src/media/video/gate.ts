/**
 * A counting semaphore for tool processes: each ffprobe is a process with its own memory,
 * so a burst of uploads must not start hundreds at once. Waiters are served in order.
 * (The same shape as the image engine's gate; kept local so the adapters stay independent.)
 */
export interface Gate {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createGate(limit: number): Gate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  let active = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    // Hand the slot straight to the next waiter so `active` never dips and overshoots.
    if (next) next();
    else active--;
  };

  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < limit) active++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
