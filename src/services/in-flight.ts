import { AppError } from "../domain/errors.js";

/**
 * Renders shared by concurrent requests are cancelled only when every request waiting on
 * them has gone away (a client that disconnects must not cancel other clients' result).
 */
export function createInFlight() {
  const inFlight = new Map<string, { controller: AbortController; waiting: number }>();

  return function watch(cacheKey: string, signal: AbortSignal | undefined): { signal: AbortSignal; done(): void } {
    let entry = inFlight.get(cacheKey);
    if (!entry) {
      entry = { controller: new AbortController(), waiting: 0 };
      inFlight.set(cacheKey, entry);
    }
    const current = entry;
    current.waiting++;
    let counted = true;
    const leave = () => {
      if (!counted) return;
      counted = false;
      current.waiting--;
      if (current.waiting === 0 && inFlight.get(cacheKey) === current) inFlight.delete(cacheKey);
    };
    const onAbort = () => {
      const last = current.waiting === 1;
      leave();
      if (last) current.controller.abort(new AppError("bad_request", "the client went away"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    return {
      signal: current.controller.signal,
      done() {
        signal?.removeEventListener("abort", onAbort);
        leave();
      },
    };
  };
}
