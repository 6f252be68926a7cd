/**
 * Runs tasks one at a time per key, in call order; different keys run concurrently. Only
 * keys with queued or running work are held in memory.
 *
 * The one in-process keyed mutex: the embedded Locks (locks/memory.ts) and the S3 store's
 * commit ordering both use it. It sits beside the ports, like systemClock, because it is
 * plain code with no I/O that adapters of every kind may import.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    // `previous` never rejects (see `tail`), so the task starts once it has settled.
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      // The last task in line removes the entry; a later caller has replaced it otherwise.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with work queued or running (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
