/**
 * Background jobs. Implementations: queue/embedded (a table in the metadata DB, leases,
 * in-process workers) and queue/bullmq (Redis). Both must pass the same contract suite.
 *
 * Delivery is at least once: a handler may run again after a crash, so handlers are
 * idempotent (keyed by content hash, asset id or cache key).
 */
export const JOB_NAMES = ["scan", "extract-metadata", "transcode-hls", "replicate", "render-variant", "webhook-deliver", "prewarm"] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface JobPayloads {
  /** Virus scan of a verified asset's bytes (only when a scanner is configured). */
  scan: { assetId: string; eager?: string[] };
  /**
   * `scanned`: the bytes passed the virus scan first. `eager`: transform queries the upload
   * named, rendered (render-variant) once the asset is ready.
   */
  "extract-metadata": { assetId: string; scanned?: boolean; reprocess?: boolean; eager?: string[] };
  /** The HLS ladder of a ready video, keyed by content hash (identical videos share one). */
  "transcode-hls": { assetId: string };
  /**
   * A copy of an original on the replica store, keyed by content hash; `repair`: a read
   * found the primary copy missing or corrupt, restore it from the replica first.
   */
  replicate: { sha256: string; repair?: boolean };
  /**
   * One variant of a ready asset, keyed by its cache key: `query` is the transform query
   * (`w=300&fmt=webp`), `accept` the Accept header it was asked with, `client` who pays for
   * the render under ASSETD_RENDER_BUDGET; `prewarm`: queued by demand prediction, rendered
   * within ASSETD_PREWARM_CPU_SHARE and recorded as prewarmed.
   */
  /** `hints`: the request's Client Hints, when its recipe depended on them (ASSETD_CLIENT_HINTS). */
  "render-variant": {
    assetId: string; query: string; accept?: string; client?: string; prewarm?: true;
    hints?: { dpr?: number; width?: number; viewportWidth?: number };
  };
  /** One webhook delivery (an outbox row), keyed by its id; sent again only until it is delivered. */
  "webhook-deliver": { deliveryId: string };
  /**
   * Demand prediction for an asset that has just become ready, keyed by asset id: queues
   * `render-variant` (prewarm) for the recipes its owner's assets of its kind were asked
   * for most; `eager`: what the upload named already (not predicted again).
   */
  prewarm: { assetId: string; eager?: string[] };
}

/**
 * A failure retrying cannot fix (the content or the recipe is at fault): the job is
 * dead-lettered at once instead of after its remaining attempts.
 */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}

export type JobState = "waiting" | "active" | "done" | "dead";

export interface EnqueueOptions {
  /**
   * Idempotency key: while a job with the same name and key is waiting or active, another
   * enqueue is a no-op.
   */
  key?: string;
  delayMs?: number;
  maxAttempts?: number;
}

export interface JobInfo {
  id: string;
  name: JobName;
  key: string | null;
  payload: unknown;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  runAt: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface JobContext {
  id: string;
  attempt: number;
  /** Aborted when the worker is stopping or the lease was lost. */
  signal: AbortSignal;
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N], ctx: JobContext) => Promise<void>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface QueueDepth {
  waiting: number;
  active: number;
  dead: number;
}

export interface JobQueue {
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options?: EnqueueOptions): Promise<void>;
  /** Starts pulling jobs (the worker role). */
  start(handlers: JobHandlers, options: { concurrency: number }): void;
  /** Stops taking jobs and waits for running handlers to finish (graceful shutdown). */
  stop(): Promise<void>;
  depth(): Promise<Record<JobName, QueueDepth>>;
  list(state: JobState, limit: number): Promise<JobInfo[]>;
  /** Moves a dead job back to waiting with a fresh attempt budget; false if not dead. */
  retry(id: string): Promise<boolean>;
}
