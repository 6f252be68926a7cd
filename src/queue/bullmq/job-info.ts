import type { Job, JobType } from "bullmq";
import type { JobInfo, JobName, JobState } from "../../ports/job-queue.js";

/**
 * How our four states map onto BullMQ's sets. A job waiting for its backoff or its
 * `delayMs` sits in `delayed`; BullMQ's `failed` set only holds jobs that used up their
 * attempts (a failure with attempts left goes to `delayed`), so it is our dead-letter list.
 */
export const BULL_TYPES: Record<JobState, readonly JobType[]> = {
  waiting: ["wait", "prioritized", "delayed"],
  active: ["active"],
  done: ["completed"],
  dead: ["failed"],
};

/** BullMQ scores delayed jobs as `runAt * 0x1000 + counter` (includes/getDelayedScore.lua). */
export const delayedScoreToRunAt = (score: number): number => Math.floor(score / 0x1000);

/**
 * One BullMQ job as the port's JobInfo. `attempts` counts starts (`attemptsStarted`), so an
 * attempt cut short by a crashed worker counts like one that threw, as in the embedded queue.
 */
export function toJobInfo(job: Job, state: JobState, runAtOverride?: number): JobInfo {
  const updatedAt = Math.max(job.timestamp, job.processedOn ?? 0, job.finishedOn ?? 0);
  const runAt = runAtOverride ?? (state === "waiting" && !job.processedOn ? job.timestamp + (job.delay ?? 0) : (job.processedOn ?? job.timestamp));
  return {
    id: String(job.id),
    name: job.name as JobName,
    key: job.deduplicationId ?? job.opts.deduplication?.id ?? null,
    payload: job.data as unknown,
    state,
    attempts: Math.max(job.attemptsStarted ?? 0, job.attemptsMade ?? 0),
    maxAttempts: job.opts.attempts ?? 1,
    runAt,
    lastError: job.failedReason ? job.failedReason : null,
    createdAt: job.timestamp,
    updatedAt,
  };
}
