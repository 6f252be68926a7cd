/**
 * The one bound on CPU-heavy media work in a process: image renders and descriptions,
 * video frames and PDF pages, probes, HLS transcodes. The composition root builds it once
 * (ASSETD_MAX_TRANSFORMS slots, ASSETD_TRANSFORM_QUEUE waiting requests) and hands it to
 * every engine, so a request or a job holds one slot however many engines it passes
 * through. Implementation: media/cpu-budget.ts.
 */
export interface CpuBudget {
  /**
   * Runs `task` in a slot; when every slot is taken the caller waits, first come first
   * served. The task gets its slot: a nested call given it as `within` runs in the same
   * slot, since work that holds a slot and waits for a second one can deadlock the budget.
   *
   * A request is refused at once with AppError `overloaded` (503 with Retry-After) when as
   * many requests as there are slots run and the queue of waiting requests is full;
   * `patient` work is never refused. Rejects with the signal's reason when `signal` aborts
   * before the task starts.
   */
  run<T>(task: (slot: CpuSlot) => Promise<T>, options?: CpuRunOptions): Promise<T>;
}

/** A slot held by a running task; valid until that task settles. */
export interface CpuSlot {
  readonly budget: CpuBudget;
}

export interface CpuRunOptions {
  signal?: AbortSignal;
  /** A slot the caller already holds: the task runs in it, at once. */
  within?: CpuSlot;
  /**
   * Not a request: wait however long the queue, never refused, and never counted against
   * its bound. For background jobs (their backlog is the job queue; refusing would only
   * burn a retry) and for an engine's own calls outside a request's slot.
   */
  patient?: boolean;
}
