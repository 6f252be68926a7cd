/**
 * The maintenance scheduler's lease and log (DESIGN §10 "Operations"): one row per pass in
 * the metadata database, so exactly one worker of a deployment runs each pass per interval
 * and the last outcome is visible to operators.
 */
export interface PassRun {
  name: string;
  holder: string | null;
  leaseUntil: number;
  startedAt: number;
  finishedAt: number | null;
  outcome: "ok" | "failed" | null;
  report: unknown;
}

export interface PassRepo {
  /**
   * Takes the pass's lease for `holder` until `leaseUntil` if nobody holds it and (unless
   * `force`) its last start is at least `intervalMs` before `now`; true when taken.
   */
  tryStart(name: string, holder: string, now: number, intervalMs: number, leaseUntil: number, force?: boolean): Promise<boolean>;
  /** Extends a lease the holder still has; false when it was lost. */
  renew(name: string, holder: string, leaseUntil: number): Promise<boolean>;
  /** Records the outcome and gives the lease back. */
  finish(name: string, holder: string, at: number, outcome: "ok" | "failed", report: unknown): Promise<void>;
  list(): Promise<PassRun[]>;
}
