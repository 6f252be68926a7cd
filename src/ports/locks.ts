/**
 * Mutual exclusion and miss-collapsing. In-process by default; Redis-backed when several
 * processes share one store.
 */
export interface Locks {
  /** Runs `fn` while holding the named lock; others asking for the same name wait. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface SingleFlight {
  /**
   * Runs `fn` once for concurrent callers with the same key; every caller gets its result.
   * `collapsed` is true for callers that waited on another caller's run.
   */
  run<T>(key: string, fn: () => Promise<T>): Promise<{ value: T; collapsed: boolean }>;
}
