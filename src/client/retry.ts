import { AssetdError } from "./errors.js";

/** Statuses worth another try: the request may succeed unchanged a moment later. */
export function isTransient(error: unknown): boolean {
  if (error instanceof AssetdError) return error.status === 408 || error.status === 429 || error.status >= 500;
  // fetch rejects with TypeError on network failures (reset, refused, DNS).
  return error instanceof TypeError;
}

/** Exponential backoff with jitter: ~0.5 s, 1 s, 2 s, ... capped at 10 s; Retry-After wins. */
export function backoff(attempt: number, error?: unknown): number {
  if (error instanceof AssetdError && error.retryAfter !== undefined) return Math.min(error.retryAfter, 60) * 1000;
  const base = Math.min(10_000, 500 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A controller that aborts when `parent` does, so one failing part can cancel its siblings
 * without touching the caller's signal. (AbortSignal.any is too new for some browsers.)
 */
export function childController(parent: AbortSignal | undefined): { controller: AbortController; release(): void } {
  const controller = new AbortController();
  if (!parent) return { controller, release: () => {} };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, release: () => {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  return { controller, release: () => parent.removeEventListener("abort", onAbort) };
}
