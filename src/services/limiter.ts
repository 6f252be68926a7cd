import { AppError } from "../domain/errors.js";

/**
 * A counting semaphore with a bounded wait queue. CPU-heavy work (image renders) runs at
 * most `concurrency` at a time; when `maxWaiting` callers already wait, new ones are
 * turned away at once with 503 instead of piling up memory and latency.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrency: number, private readonly maxWaiting: number) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new AppError("overloaded", "too many transforms in progress; retry shortly", { retryAfter: 1 });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter so `running` never dips and overshoots.
      if (next) next();
      else this.running--;
    }
  }
}
