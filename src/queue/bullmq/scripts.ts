import type { Redis } from "ioredis";

/**
 * Two small atomic steps BullMQ has no API for. Both read BullMQ's own key layout for a
 * queue (`<prefix>:<queue>:<jobId>` job hashes, `…:failed`, `…:de:<id>` deduplication keys,
 * `…:<jobId>:lock`), which is part of its on-Redis format across 5.x and 6.x.
 */

/**
 * Before reviving a dead job, take its deduplication key back, so that a revived job is
 * "waiting" for enqueue's idempotency like any other (BullMQ's job.retry() does not restore
 * it). Returns 1 when the key is ours (or the job has none), 0 when the job is not in the
 * failed set or a retry of it is already under way, -1 when another live job with the same
 * key exists: the work is queued anyway (the embedded queue answers false there too).
 * BullMQ deletes the key again when the revived job completes or fails.
 */
const RESERVE_KEY_FOR_RETRY = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local deid = redis.call('HGET', KEYS[2], 'deid')
if not deid then return 1 end
local dedupKey = ARGV[2] .. 'de:' .. deid
local holder = redis.call('GET', dedupKey)
if holder == ARGV[1] then return 0 end
if holder and redis.call('EXISTS', ARGV[2] .. holder) == 1 then return -1 end
redis.call('SET', dedupKey, ARGV[1])
return 1
`;

/**
 * A job given back at shutdown should not spend an attempt: BullMQ counted the start
 * (`ats`) when the job became active. Only while we still hold its lock, so the count of
 * a job another worker already took over is left alone.
 */
const UNCOUNT_START = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local started = tonumber(redis.call('HGET', KEYS[1], 'ats') or '0')
if started > 0 then redis.call('HINCRBY', KEYS[1], 'ats', -1) end
return 1
`;

/** `queueKey` is BullMQ's `queue.toKey("")`: `<prefix>:<queue name>:`. */
export async function reserveKeyForRetry(redis: Redis, queueKey: string, jobId: string): Promise<-1 | 0 | 1> {
  const result = await redis.eval(RESERVE_KEY_FOR_RETRY, 2, `${queueKey}failed`, `${queueKey}${jobId}`, jobId, queueKey);
  return Number(result) as -1 | 0 | 1;
}

export async function uncountStart(redis: Redis, queueKey: string, jobId: string, token: string): Promise<boolean> {
  return Number(await redis.eval(UNCOUNT_START, 2, `${queueKey}${jobId}`, `${queueKey}${jobId}:lock`, token)) === 1;
}
