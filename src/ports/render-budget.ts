/**
 * Render time each client may spend per minute (DESIGN §10 "Bounded cost"): a client is a
 * principal, or an IP address when anonymous. Windows are whole clock minutes, so every
 * process sharing a backend agrees on when a window frees.
 */
export interface RenderBudget {
  /** Seconds until `client` may render again; 0 when it may now. */
  retryAfter(client: string): Promise<number>;
  /** Adds a finished render's seconds to `client`'s current window. */
  charge(client: string, seconds: number): Promise<void>;
}

export const WINDOW_MS = 60_000;

/** Whole seconds from `now` until the window holding it ends (at least 1). */
export function secondsToNextWindow(now: number): number {
  return Math.max(1, Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000));
}
