import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Kysely } from "kysely";
import { ulid } from "ulid";
import { sqlDialect, type DialectName } from "../db/dialect/index.js";
import type { Database } from "../db/schema.js";
import { systemClock, type Clock } from "../ports/clock.js";
import {
  JOB_NAMES,
  type JobHandler,
  type JobHandlers,
  type JobName,
  type JobPayloads,
  type JobQueue,
  type QueueDepth,
} from "../ports/job-queue.js";
import { silentLogger, type Logger } from "../ports/logger.js";
import type { BackoffOptions } from "./backoff.js";
import { createFailurePolicy, LOST_ON_LAST_ATTEMPT } from "./failure-policy.js";
import { createJobStore, type ClaimedJob } from "./job-store.js";
import { WakeableSleep } from "./wakeable-sleep.js";

export interface EmbeddedQueueOptions {
  clock?: Clock;
  logger?: Logger;
  /** How long a claim is valid without a heartbeat; a crashed worker's job returns after it. */
  leaseMs?: number;
  /** Heartbeat period; default a third of the lease, so two missed beats still keep it. */
  heartbeatMs?: number;
  /** How often idle workers look for due jobs (local enqueues wake them at once). */
  pollMs?: number;
  backoff?: Partial<BackoffOptions>;
  defaultMaxAttempts?: number;
  /** Names this process in lease_owner, for operators reading the job table. */
  workerId?: string;
  /** Finished jobs are kept this long for inspection, then pruned (default one day). */
  doneRetentionMs?: number;
  /** How often the prune runs while workers run (default hourly). */
  pruneEveryMs?: number;
}

export interface StopOptions {
  /**
   * Wait at most this long for running handlers; then abort their signals and give their
   * jobs back (waiting, attempt not counted) so another worker starts them at once.
   */
  timeoutMs?: number;
}

/** The port plus the embedded queue's shutdown controls. */
export interface EmbeddedJobQueue extends JobQueue {
  stop(options?: StopOptions): Promise<void>;
  /**
   * Stops at once as a crashed process would: no more claims or heartbeats, nothing
   * written for running jobs, their handlers' signals aborted. Their leases run out and
   * another worker takes them over. For tests and for exits that cannot wait.
   */
  abandon(): void;
}

interface Running {
  job: ClaimedJob;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * A durable job queue in the metadata database (DESIGN §2: embedded default). Jobs are
 * rows, so they survive restarts; a claim is a lease renewed by a heartbeat, so a job
 * whose worker died runs again elsewhere (at-least-once delivery).
 */
export function createEmbeddedQueue(db: Kysely<Database>, dialectName: DialectName, options: EmbeddedQueueOptions = {}): EmbeddedJobQueue {
  const dialect = sqlDialect(dialectName);
  const store = createJobStore(db, dialect);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const leaseMs = options.leaseMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3));
  const pollMs = options.pollMs ?? 500;
  const policy = createFailurePolicy({ logger, ...(options.backoff ? { backoff: options.backoff } : {}) });
  const defaultMaxAttempts = options.defaultMaxAttempts ?? 5;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}`;
  const doneRetentionMs = options.doneRetentionMs ?? 86_400_000;
  const pruneEveryMs = options.pruneEveryMs ?? 3_600_000;

  const sleeper = new WakeableSleep();
  const running = new Map<string, Running>();
  let handlers: JobHandlers | undefined;
  let concurrency = 1;
  let stopping = false;
  let abandoned = false;
  let loop: Promise<void> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let lastPruneAt = -Infinity;

  const newLeaseOwner = () => `${workerId}/${randomBytes(6).toString("hex")}`;

  async function pollLoop(names: readonly JobName[]): Promise<void> {
    while (!stopping) {
      sleeper.clear();
      try {
        await maybePrune();
        let misses = 0;
        while (!stopping && running.size < concurrency) {
          const now = clock.now();
          if (!(await store.hasClaimable(names, now))) break;
          const job = await store.claim(names, now, leaseMs, newLeaseOwner());
          if (!job) {
            // Another worker took it between the check and the claim; look again, but do
            // not spin on rows a long transaction elsewhere keeps locked.
            if (++misses >= 3) break;
            continue;
          }
          if (stopping) {
            await store.release(job.id, job.leaseOwner, clock.now());
            break;
          }
          run(job);
        }
      } catch (error) {
        logger.error({ err: error }, "job queue: polling failed");
      }
      if (stopping) break;
      await sleeper.sleep(pollMs);
    }
  }

  async function maybePrune(): Promise<void> {
    const now = clock.now();
    if (now - lastPruneAt < pruneEveryMs) return;
    lastPruneAt = now;
    const pruned = await store.pruneDone(now - doneRetentionMs);
    if (pruned > 0) logger.debug({ pruned }, "job queue: pruned finished jobs");
  }

  function run(job: ClaimedJob): void {
    const controller = new AbortController();
    const entry: Running = { job, controller, done: Promise.resolve() };
    running.set(job.id, entry);
    entry.done = execute(job, controller.signal)
      .catch((error: unknown) => logger.error({ err: error, jobId: job.id }, "job queue: job execution failed unexpectedly"))
      .finally(() => {
        running.delete(job.id);
        sleeper.wake(); // a slot is free
      });
  }

  async function execute(job: ClaimedJob, signal: AbortSignal): Promise<void> {
    // A lease that ran out while its worker was gone brings the job back once more; when
    // that was already the last attempt, the crash counts as the final failure.
    if (policy.lostOnLastAttempt(job, job.attempts, job.maxAttempts)) {
      await settle(job, { state: "dead", error: LOST_ON_LAST_ATTEMPT, now: clock.now() });
      return;
    }
    const handler = handlers![job.name] as JobHandler<JobName> | undefined;
    let failure: unknown;
    try {
      if (!handler) throw new Error(`no handler for job ${job.name}`);
      await handler(job.payload as JobPayloads[JobName], { id: job.id, attempt: job.attempts, signal });
    } catch (error) {
      failure = error ?? new Error("handler failed");
    }
    if (abandoned) return;
    const now = clock.now();
    if (signal.aborted && signal.reason === STOP_REASON) {
      // stop() timed out and has already given the job back.
      return;
    }
    if (failure === undefined) {
      await settle(job, { state: "done", now });
      return;
    }
    const verdict = policy.failed(job, job.attempts, job.maxAttempts, failure);
    await settle(job, verdict.dead
      ? { state: "dead", error: verdict.error, now }
      : { state: "waiting", runAt: now + policy.delayMs(job.attempts), error: verdict.error, now });
  }

  async function settle(job: ClaimedJob, outcome: Parameters<typeof store.settle>[2]): Promise<void> {
    try {
      const ok = await store.settle(job.id, job.leaseOwner, outcome);
      if (!ok) logger.warn({ jobId: job.id, job: job.name }, "job queue: lease lost before the job finished; its outcome was not recorded");
    } catch (error) {
      logger.error({ err: error, jobId: job.id }, "job queue: could not record a job's outcome; it will run again when its lease expires");
    }
  }

  async function beat(): Promise<void> {
    const now = clock.now();
    for (const { job, controller } of running.values()) {
      if (controller.signal.aborted) continue;
      try {
        if (!(await store.extend(job.id, job.leaseOwner, now + leaseMs, now))) {
          // Someone else owns the job now (we stalled past the lease): stop duplicate work.
          logger.warn({ jobId: job.id, job: job.name }, "job queue: lease lost; aborting the handler");
          controller.abort(new Error("job lease lost"));
        }
      } catch (error) {
        logger.error({ err: error, jobId: job.id }, "job queue: heartbeat failed");
      }
    }
  }

  /** No more claims. Heartbeats go on while handlers run, or their leases would lapse. */
  function halt(): void {
    stopping = true;
    sleeper.wake();
  }

  function stopHeartbeat(): void {
    clearInterval(heartbeat);
    heartbeat = undefined;
  }

  return {
    async enqueue(name, payload, opts = {}) {
      const now = clock.now();
      const inserted = await store.insert({
        id: ulid(now),
        name,
        key: opts.key ?? null,
        payload,
        maxAttempts: opts.maxAttempts ?? defaultMaxAttempts,
        runAt: now + Math.max(0, opts.delayMs ?? 0),
        now,
      });
      if (inserted) sleeper.wake();
    },

    start(jobHandlers, startOptions) {
      if (handlers) throw new Error("job queue already started");
      handlers = jobHandlers;
      concurrency = Math.max(1, Math.trunc(startOptions.concurrency));
      const names = JOB_NAMES.filter((name) => typeof jobHandlers[name] === "function");
      heartbeat = setInterval(() => void beat(), heartbeatMs);
      heartbeat.unref();
      loop = pollLoop(names);
    },

    async stop(stopOptions: StopOptions = {}) {
      halt();
      await loop;
      const all = Promise.all([...running.values()].map((r) => r.done));
      if (stopOptions.timeoutMs === undefined) {
        await all;
        stopHeartbeat();
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), stopOptions.timeoutMs))),
      ]);
      clearTimeout(timer);
      stopHeartbeat();
      if (!timedOut) return;
      await Promise.all(
        [...running.values()].map(async ({ job, controller }) => {
          controller.abort(STOP_REASON);
          await store.release(job.id, job.leaseOwner, clock.now()).catch((error: unknown) => {
            logger.error({ err: error, jobId: job.id }, "job queue: could not give a job back at shutdown");
          });
        }),
      );
    },

    abandon() {
      abandoned = true;
      halt();
      stopHeartbeat();
      for (const { controller } of running.values()) controller.abort(new Error("worker abandoned"));
    },

    async depth() {
      const depth = Object.fromEntries(JOB_NAMES.map((name) => [name, { waiting: 0, active: 0, dead: 0 }])) as Record<JobName, QueueDepth>;
      for (const { name, state, n } of await store.countByNameAndState()) {
        const counts = depth[name as JobName] as QueueDepth | undefined;
        if (counts && (state === "waiting" || state === "active" || state === "dead")) counts[state] = n;
      }
      return depth;
    },

    list: (state, limit) => store.list(state, limit),

    retry: (id: string) => store.retry(id, clock.now()),
  };
}

/** The abort reason stop() uses, to tell "shutting down" from "lease lost". */
const STOP_REASON = new Error("worker stopping");
