export interface BackoffOptions {
  /** Delay before the second attempt. */
  baseMs: number;
  /** Cap on any one delay. */
  maxMs: number;
  /** 0..1: the delay is spread by ± this fraction, so a burst of failures does not retry in lockstep. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 300_000, jitter: 0.2 };

/** Exponential backoff after failed attempt number `attempt` (1-based): base·2^(attempt-1), capped, jittered. */
export function retryDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const capped = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(exponent, 52));
  const spread = capped * options.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(capped + spread));
}
