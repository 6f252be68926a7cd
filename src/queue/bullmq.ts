import { hostname } from "node:os";
import { Job, Queue, UnrecoverableError, WaitingError, Worker, type MinimalJob } from "bullmq";
import { Redis } from "ioredis";
import { ulid } from "ulid";
import {
  JOB_NAMES,
  type EnqueueOptions,
  type JobHandler,
  type JobHandlers,
  type JobInfo,
  type JobName,
  type JobPayloads,
  type JobQueue,
  type JobState,
  type QueueDepth,
} from "../ports/job-queue.js";
import { silentLogger, type Logger } from "../ports/logger.js";
import type { BackoffOptions } from "./backoff.js";
import { BULL_TYPES, delayedScoreToRunAt, toJobInfo } from "./bullmq/job-info.js";
import { reserveKeyForRetry, uncountStart } from "./bullmq/scripts.js";
import { createFailurePolicy, LOST_ON_LAST_ATTEMPT } from "./failure-policy.js";

export interface BullQueueOptions {
  redisUrl: string;
  /** Namespaces every key (`<prefix>:<job name>:…`), so several deployments can share one Redis. */
  prefix?: string;
  logger?: Logger;
  /** For jobs enqueued without `maxAttempts`. */
  defaultMaxAttempts?: number;
  backoff?: Partial<BackoffOptions>;
  /**
   * BullMQ's lockDuration: how long a started job stays owned without a renewal (renewed
   * every half of it). A killed worker's job returns to waiting after it, at the next
   * stalled-job check.
   */
  leaseMs?: number;
  /** How often workers look for jobs whose lock lapsed (default half the lease). */
  stalledCheckMs?: number;
  /** Finished jobs are kept this long for inspection (default one day, and at most 10 000). */
  doneRetentionMs?: number;
  /** Stored on each job this process runs ("processed by"), for operators. */
  workerName?: string;
}

export interface BullStopOptions {
  /**
   * Wait at most this long for running handlers; then abort their signals and give their
   * jobs back (waiting, attempt not counted) so another worker starts them at once.
   */
  timeoutMs?: number;
}

/** The port plus shutdown controls. */
export interface BullJobQueue extends JobQueue {
  /** Closes the workers (and their Redis connections); enqueue, depth, list and retry keep working. */
  stop(options?: BullStopOptions): Promise<void>;
  /**
   * Stops at once as a killed process would: no more fetching, lock renewals or writes for
   * running jobs, their signals aborted. The jobs return when their locks lapse.
   */
  abandon(): Promise<void>;
  /** stop() and then closes the producer connection. */
  close(): Promise<void>;
}

interface Running {
  job: Job;
  token: string;
  controller: AbortController;
  /** Set while stop() hands the job back; the processor then ends with a WaitingError. */
  givingBack: boolean;
  /** Ends the processor at once with a WaitingError: the job was handed back at shutdown. */
  giveBack(): void;
}

/** A backoff type BullMQ does not know, so it calls our strategy (Worker settings). */
const BACKOFF_TYPE = "assetd";
/**
 * Our processor counts starts against maxAttempts (a worker killed mid-job spent an
 * attempt, like in the embedded queue), so BullMQ's own stall limit must never fire first.
 */
const MAX_STALLED_COUNT = 1_000_000;
const DONE_KEEP_MAX = 10_000;
const STOP_REASON = new Error("worker stopping");

/**
 * The JobQueue port on BullMQ (DESIGN §2 "at scale"): one BullMQ queue per job name,
 * workers in every `assetd worker`/`serve` process. Delivery is at least once: a job whose
 * worker died is put back by BullMQ's stalled-job checker after its lock lapses.
 */
export function createBullQueue(options: BullQueueOptions): BullJobQueue {
  const prefix = options.prefix ?? "assetd";
  const logger = options.logger ?? silentLogger;
  const defaultMaxAttempts = options.defaultMaxAttempts ?? 5;
  const policy = createFailurePolicy({ logger, ...(options.backoff ? { backoff: options.backoff } : {}) });
  const leaseMs = options.leaseMs ?? 30_000;
  const stalledCheckMs = options.stalledCheckMs ?? Math.max(50, Math.floor(leaseMs / 2));
  const doneRetentionSeconds = Math.max(1, Math.ceil((options.doneRetentionMs ?? 86_400_000) / 1000));
  const workerName = options.workerName ?? `${hostname()}:${process.pid}`;

  // Producer side: fail a command after a few reconnect attempts instead of holding an
  // upload request forever while Redis is down (workers wait indefinitely instead).
  const producer = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
  producer.on("error", (error) => logger.warn({ err: error }, "job queue: redis connection error"));
  const queues = new Map<JobName, Queue>(
    JOB_NAMES.map((name) => {
      const queue = new Queue(name, { connection: producer, prefix });
      queue.on("error", (error) => logger.error({ err: error, queue: name }, "job queue: queue error"));
      return [name, queue];
    }),
  );

  const running = new Map<string, Running>();
  let workers: Worker[] = [];
  let workerClient: Redis | undefined;
  let started = false;
  let abandoned = false;

  const queueOf = (name: JobName): Queue => {
    const queue = queues.get(name);
    if (!queue) throw new Error(`unknown job name ${name}`);
    return queue;
  };

  function processorFor(handler: JobHandler<JobName>) {
    // Three parameters: BullMQ passes an AbortSignal only to processors that declare it.
    return async (job: Job, token?: string, bullSignal?: AbortSignal): Promise<void> => {
      const id = String(job.id);
      const controller = new AbortController();
      bullSignal?.addEventListener("abort", () => controller.abort(bullSignal.reason), { once: true });
      let giveBack!: () => void;
      const givenBack = new Promise<never>((_resolve, reject) => (giveBack = () => reject(new WaitingError())));
      givenBack.catch(() => {});
      const entry: Running = { job, token: token ?? "", controller, givingBack: false, giveBack };
      running.set(id, entry);
      try {
        const attempt = job.attemptsStarted;
        const maxAttempts = job.opts.attempts ?? defaultMaxAttempts;
        // The previous start was the last one and its worker vanished (the lock lapsed).
        if (policy.lostOnLastAttempt({ id, name: job.name }, attempt, maxAttempts)) throw new UnrecoverableError(LOST_ON_LAST_ATTEMPT);
        let failure: unknown;
        try {
          await Promise.race([handler(job.data as JobPayloads[JobName], { id, attempt, signal: controller.signal }), givenBack]);
        } catch (error) {
          failure = error ?? new Error("handler failed");
        }
        // Handed back at shutdown: whatever the handler did after its signal was aborted,
        // the job is waiting again and BullMQ must not record an outcome.
        if (entry.givingBack) await givenBack;
        // A "crashed" instance writes nothing more; BullMQ's stalled checker takes over.
        if (abandoned) return new Promise<never>(() => {});
        if (failure === undefined) return;
        throw failureFor(id, job.name, attempt, maxAttempts, failure);
      } finally {
        running.delete(id);
      }
    };
  }

  function failureFor(id: string, name: string, attempt: number, maxAttempts: number, failure: unknown): Error {
    const verdict = policy.failed({ id, name }, attempt, maxAttempts, failure);
    // BullMQ keeps the message as failedReason (our lastError); UnrecoverableError skips its
    // own retry decision, which counts failures only and would ignore attempts lost to crashes.
    const error = verdict.dead ? new UnrecoverableError(verdict.error) : new Error(verdict.error);
    if (failure instanceof Error && failure.stack) error.stack = failure.stack;
    return error;
  }

  function backoffStrategy(attemptsMade: number, _type?: string, _error?: Error, job?: MinimalJob): number {
    // Starts, not failures, so a crash in between still lengthens the next delay.
    const attempt = Math.max(attemptsMade, (job as Job | undefined)?.attemptsStarted ?? 0);
    return Math.max(1, policy.delayMs(attempt));
  }

  async function giveBackRunning(): Promise<void> {
    await Promise.all(
      [...running.values()].map(async (entry) => {
        entry.givingBack = true;
        entry.controller.abort(STOP_REASON);
        const queueKey = queueOf(entry.job.name as JobName).toKey("");
        try {
          await uncountStart(producer, queueKey, String(entry.job.id), entry.token);
          await entry.job.moveToWait(entry.token);
        } catch (error) {
          logger.error({ err: error, jobId: entry.job.id }, "job queue: could not give a job back at shutdown; it returns when its lock lapses");
        }
        entry.giveBack();
      }),
    );
  }

  async function listQueue(queue: Queue, state: JobState, limit: number): Promise<JobInfo[]> {
    const infos: JobInfo[] = [];
    for (const type of BULL_TYPES[state]) {
      const jobs = (await queue.getJobs([type], 0, limit - 1, false)).filter((job): job is Job => Boolean(job));
      let runAts: Array<number | undefined> = [];
      if (type === "delayed" && jobs.length > 0) {
        const pipeline = producer.pipeline();
        for (const job of jobs) pipeline.zscore(queue.toKey("delayed"), String(job.id));
        runAts = ((await pipeline.exec()) ?? []).map(([error, score]) => (error || score == null ? undefined : delayedScoreToRunAt(Number(score))));
      }
      jobs.forEach((job, i) => infos.push(toJobInfo(job, state, runAts[i])));
    }
    return infos;
  }

  async function closeWorkerClient(): Promise<void> {
    const client = workerClient;
    workerClient = undefined;
    if (!client) return;
    await client.quit().catch(() => client.disconnect());
  }

  const api: BullJobQueue = {
    async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions = {}): Promise<void> {
      await queueOf(name).add(name, payload, {
        // ULIDs: unique across the per-name queues (retry(id) looks in each), sortable.
        jobId: ulid(),
        attempts: Math.max(1, Math.trunc(opts.maxAttempts ?? defaultMaxAttempts)),
        backoff: { type: BACKOFF_TYPE },
        delay: Math.max(0, opts.delayMs ?? 0),
        removeOnComplete: { age: doneRetentionSeconds, count: DONE_KEEP_MAX },
        removeOnFail: false, // dead letters stay until retried
        // Simple-mode deduplication: the key is held until the job completes or fails, which
        // is the port's "waiting or active" (a jobId derived from the key would also block
        // re-enqueues after completion, for as long as the finished job is kept).
        ...(opts.key !== undefined ? { deduplication: { id: opts.key } } : {}),
      });
    },

    start(handlers: JobHandlers, startOptions: { concurrency: number }) {
      if (started) throw new Error("job queue already started");
      started = true;
      const concurrency = Math.max(1, Math.trunc(startOptions.concurrency));
      const client = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
      client.on("error", (error) => logger.warn({ err: error }, "job queue: worker redis connection error"));
      workerClient = client;
      for (const name of JOB_NAMES) {
        const handler = handlers[name] as JobHandler<JobName> | undefined;
        if (typeof handler !== "function") continue;
        const worker = new Worker(name, processorFor(handler), {
          connection: client,
          prefix,
          concurrency,
          name: workerName,
          lockDuration: leaseMs,
          stalledInterval: stalledCheckMs,
          maxStalledCount: MAX_STALLED_COUNT,
          settings: { backoffStrategy },
        });
        worker.on("error", (error) => logger.error({ err: error, queue: name }, "job queue: worker error"));
        worker.on("lockRenewalFailed", (jobIds: string[]) => {
          for (const jobId of jobIds) {
            const entry = running.get(jobId);
            if (!entry || entry.controller.signal.aborted) continue;
            // Another worker may own the job now (we stalled past the lock): stop duplicate work.
            logger.warn({ jobId, job: name }, "job queue: lock lost; aborting the handler");
            entry.controller.abort(new Error("job lease lost"));
          }
        });
        worker.on("stalled", (jobId: string) => logger.warn({ jobId, job: name }, "job queue: job stalled (its worker stopped renewing the lock); running it again"));
        workers.push(worker);
      }
    },

    async stop(stopOptions: BullStopOptions = {}) {
      const closing = Promise.all(workers.map((worker) => worker.close()));
      if (stopOptions.timeoutMs !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          closing.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), stopOptions.timeoutMs))),
        ]);
        clearTimeout(timer);
        // Lock renewal goes on until close() ends, so the jobs are still ours to give back.
        if (timedOut) await giveBackRunning();
      }
      await closing;
      workers = [];
      await closeWorkerClient();
    },

    async abandon() {
      abandoned = true;
      const closing = workers;
      workers = [];
      for (const { controller } of running.values()) controller.abort(new Error("worker abandoned"));
      await Promise.all(closing.map((worker) => worker.close(true).catch(() => {})));
      workerClient?.disconnect();
      workerClient = undefined;
    },

    async close() {
      await api.stop();
      await Promise.all([...queues.values()].map((queue) => queue.close().catch(() => {})));
      await producer.quit().catch(() => producer.disconnect());
    },

    async depth() {
      const entries = await Promise.all(
        [...queues].map(async ([name, queue]): Promise<[JobName, QueueDepth]> => {
          const c = await queue.getJobCounts("wait", "prioritized", "delayed", "active", "failed");
          const n = (type: string) => c[type] ?? 0;
          return [name, { waiting: n("wait") + n("prioritized") + n("delayed"), active: n("active"), dead: n("failed") }];
        }),
      );
      return Object.fromEntries(entries) as Record<JobName, QueueDepth>;
    },

    async list(state: JobState, limit: number): Promise<JobInfo[]> {
      const max = Math.max(0, Math.trunc(limit));
      if (max === 0) return [];
      const all = (await Promise.all([...queues.values()].map((queue) => listQueue(queue, state, max)))).flat();
      all.sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      return all.slice(0, max);
    },

    async retry(id: string): Promise<boolean> {
      for (const queue of queues.values()) {
        const job = await Job.fromId(queue, id);
        if (!job) continue;
        if ((await reserveKeyForRetry(producer, queue.toKey(""), id)) !== 1) return false;
        try {
          // A fresh budget: both counters back to zero, so the next start is attempt 1.
          await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
          return true;
        } catch (error) {
          logger.debug({ err: error, jobId: id }, "job queue: retry refused (the job is no longer dead)");
          await job.removeDeduplicationKey().catch(() => false);
          return false;
        }
      }
      return false;
    },
  };
  return api;
}
