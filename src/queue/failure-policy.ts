import { PermanentJobError } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import { DEFAULT_BACKOFF, retryDelayMs, type BackoffOptions } from "./backoff.js";

/** Longer handler errors are cut here before they are stored as a job's last error. */
const MAX_ERROR_LENGTH = 4000;

/** The last error of a job whose worker vanished during its last attempt. */
export const LOST_ON_LAST_ATTEMPT = "worker lost during the last attempt (lease expired)";

export interface FailedJob {
  id: string;
  name: string;
}

export interface FailureVerdict {
  /** Dead-lettered; otherwise retried after `delayMs(attempt)`. */
  dead: boolean;
  /** The handler's error as stored with the job (cut to a bounded length). */
  error: string;
}

export type FailurePolicy = ReturnType<typeof createFailurePolicy>;

/**
 * What becomes of a job after an attempt, the same in both queues. Attempts are counted
 * when they start, so a worker killed mid-job has spent one: a failure before the last
 * attempt is retried after an exponential, jittered delay, the last one dead-letters the
 * job, and a lease that lapsed during the last attempt is that attempt's failure. A
 * PermanentJobError dead-letters the job at once: another attempt would fail the same way.
 */
export function createFailurePolicy(options: { logger: Logger; backoff?: Partial<BackoffOptions> }) {
  const { logger } = options;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };

  return {
    /** The delay after failed attempt number `attempt` (1-based). */
    delayMs: (attempt: number): number => retryDelayMs(attempt, backoff),

    /** True (and logged) when the job's last attempt started before and its worker was lost. */
    lostOnLastAttempt(job: FailedJob, attempt: number, maxAttempts: number): boolean {
      if (attempt <= maxAttempts) return false;
      logger.error({ jobId: job.id, job: job.name, attempts: maxAttempts }, "job queue: worker lost during the last attempt, job now dead");
      return true;
    },

    /** The verdict on attempt number `attempt` whose handler threw `failure`; logged. */
    failed(job: FailedJob, attempt: number, maxAttempts: number, failure: unknown): FailureVerdict {
      const error = describeFailure(failure);
      if (attempt >= maxAttempts || failure instanceof PermanentJobError) {
        logger.error({ jobId: job.id, job: job.name, attempts: attempt, error }, "job queue: job failed for the last time, now dead");
        return { dead: true, error };
      }
      logger.warn({ jobId: job.id, job: job.name, attempt, error }, "job queue: job failed, will retry");
      return { dead: false, error };
    },
  };
}

function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}
