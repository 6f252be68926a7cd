/** What every scenario gets and gives back; the runner owns printing and files. */

export type Mode = "quick" | "full";

/** One line of the results table: assetd's figure, the peer's, their ratio and the target. */
export interface Row {
  metric: string;
  /** Unit of the assetd/peer figures ("req/s", "ms", "MB/s", "MB", "count"). */
  unit: string;
  assetd: number | null;
  /** The peer's figure, and which peer it is (named in the table's metric column). */
  peer?: number | null;
  peerName?: string;
  /** assetd / peer, or whatever the target is phrased against (set by the scenario). */
  ratio?: number | null;
  /** The DESIGN §9 target in words, e.g. "≥ 0.5× nginx". */
  target?: string;
  /** Reported, never asserted: the harness exits 0 when a target is missed. */
  pass?: boolean | null;
}

export interface ScenarioResult {
  name: string;
  title: string;
  status: "ok" | "skipped" | "error";
  /** Why a scenario was skipped or what broke. */
  reason?: string;
  rows: Row[];
  /** Method notes printed under the table (connections, durations, caveats). */
  notes: string[];
  /** Raw figures for the JSON file (latency distributions, CPU use, sizes, ...). */
  details: Record<string, unknown>;
  /** With --profile: the server's hottest functions (printed as a block). */
  profile: string[];
  seconds: number;
}

export interface ScenarioContext {
  mode: Mode;
  /** A scratch directory for this scenario, removed afterwards. */
  tmpDir: string;
  /** bench/out (git-ignored): cached generated fixtures, profiles. */
  outDir: string;
  /** When set, assetd runs under `node --cpu-prof` and the scenario prints its hottest functions. */
  profile: boolean;
  log(message: string): void;
  /** Registers a cleanup that runs even when the scenario throws (children, files). */
  defer(fn: () => Promise<void> | void): void;
}

export interface Scenario {
  name: string;
  title: string;
  run(ctx: ScenarioContext, result: ScenarioResult): Promise<void>;
}

/** Thrown by a scenario to report "skipped: <reason>" instead of an error. */
export class SkipScenario extends Error {}
