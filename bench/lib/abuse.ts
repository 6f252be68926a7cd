import { readdir, stat } from "node:fs/promises";
import { request, type Agent } from "node:http";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { percentile } from "./http.js";
import { cpuSeconds, rssSampler, sleep, statusMiB } from "./proc.js";

/**
 * Building blocks of the abuse scenario: an attacker's requests that never throw (every
 * answer, reset or cut-off is an outcome), a /healthz poller, and the server's cost meters.
 */

/** How one request ended: its HTTP status, or what happened to the connection. */
export type Outcome = string;

/** Counts of outcomes, e.g. `{ "200": 12, "422": 3, reset: 1, unfinished: 2 }`. */
export type Tally = Record<Outcome, number>;

export const count = (tally: Tally, outcome: Outcome): void => void (tally[outcome] = (tally[outcome] ?? 0) + 1);

/** `200×12 422×3 reset×1`, largest first. */
export const describeTally = (tally: Tally): string =>
  Object.entries(tally).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(" ") || "none";

export const total = (tally: Tally): number => Object.values(tally).reduce((n, v) => n + v, 0);

/** Names a connection-level failure: the attacker's view of a refused, reset or abandoned request. */
export function failureOutcome(error: unknown, signal?: AbortSignal): Outcome {
  if (signal?.aborted) return "unfinished";
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ETIMEDOUT" || /timeout/i.test(String((error as Error | undefined)?.message))) return "timeout";
  return code ?? "error";
}

export interface GetOptions {
  agent?: Agent | false;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Socket inactivity limit; a backstop, the signal is what ends an attack on time. */
  timeoutMs?: number;
}

/**
 * A GET whose body is counted and dropped (a 100 MB PNG is not kept in the harness), which
 * resolves with its outcome and never rejects: a 4xx/5xx or a reset is what the attacker saw.
 */
export function getOutcome(url: string, o: GetOptions = {}): Promise<{ outcome: Outcome; bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let bytes = 0;
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve({ outcome, bytes, ms: performance.now() - started });
    };
    if (o.signal?.aborted) return done("unfinished");
    const req = request(url, { agent: o.agent, headers: o.headers, signal: o.signal, timeout: o.timeoutMs ?? 120_000 }, (res) => {
      const status = String(res.statusCode ?? 0);
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.once("end", () => done(status));
      // The body was cut short: the answer's status still tells what the server decided.
      res.once("aborted", () => done(o.signal?.aborted ? "unfinished" : `${status} cut`));
      res.once("error", (error) => done(o.signal?.aborted ? "unfinished" : `${status} ${failureOutcome(error)}`));
    });
    req.once("timeout", () => req.destroy(Object.assign(new Error("socket timeout"), { code: "ETIMEDOUT" })));
    req.once("error", (error) => done(failureOutcome(error, o.signal)));
    req.end();
  });
}

export interface AttackResult {
  tally: Tally;
  started: number;
  seconds: number;
  /** Durations of the requests that got an answer, ms. */
  answeredMs: number[];
  bytesReceived: number;
}

/**
 * `lanes` loops each sending `op(i)` back to back for `durationMs`; at the deadline every
 * request still in flight is aborted (counted as `unfinished`), so the attack ends on time.
 */
export async function attackLoop(lanes: number, durationMs: number,
  op: (i: number, signal: AbortSignal) => Promise<{ outcome: Outcome; bytes: number; ms: number }>): Promise<AttackResult> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), durationMs);
  const result: AttackResult = { tally: {}, started: 0, seconds: 0, answeredMs: [], bytesReceived: 0 };
  const began = performance.now();
  let next = 0;
  const lane = async () => {
    while (!stop.signal.aborted) {
      result.started++;
      const r = await op(next++, stop.signal);
      count(result.tally, r.outcome);
      result.bytesReceived += r.bytes;
      if (/^\d{3}$/.test(r.outcome)) result.answeredMs.push(r.ms);
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    clearTimeout(timer);
  }
  result.seconds = (performance.now() - began) / 1000;
  return result;
}

export interface HealthSample {
  /** Every probe's latency in ms; an unanswered probe counts with the time it waited (a lower bound). */
  latencies: number[];
  unanswered: number;
  outcomes: Tally;
  p50: number;
  p99: number;
  max: number;
  /** The harness's own event-loop delay p99 while polling (ms): its share of the figures above. */
  harnessLagP99: number;
}

/**
 * Polls `GET /healthz` on a new connection every `intervalMs` (a load balancer's check: it
 * also has to be accepted) until stopped. The probe in flight when stopped is aborted and,
 * once it has waited `LATE_MS`, counted with the time it waited: a frozen server cannot hide
 * behind a missing sample.
 */
const LATE_MS = 100;

export function pollHealth(baseUrl: string, intervalMs = 50): { stop(): Promise<HealthSample> } {
  const halt = new AbortController();
  const latencies: number[] = [];
  const outcomes: Tally = {};
  let unanswered = 0;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const loop = (async () => {
    while (!halt.signal.aborted) {
      const r = await getOutcome(`${baseUrl}/healthz`, { agent: false, signal: halt.signal, timeoutMs: 600_000 });
      // Cut off by stop() before it was late: it says nothing either way.
      if (r.outcome === "unfinished" && r.ms < LATE_MS) break;
      latencies.push(r.ms);
      count(outcomes, r.outcome);
      if (r.outcome !== "200") unanswered++;
      if (r.ms < intervalMs && !halt.signal.aborted) await sleep(intervalMs - r.ms);
    }
  })();
  return {
    async stop() {
      halt.abort();
      await loop;
      lag.disable();
      return {
        latencies, unanswered, outcomes,
        p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length ? Math.max(...latencies) : NaN,
        harnessLagP99: lag.percentile(99) / 1e6,
      };
    },
  };
}

/** After an attack: how long until /healthz answers again (undefined when not within `limitMs`). */
export async function recoveryMs(baseUrl: string, limitMs: number): Promise<number | undefined> {
  const r = await getOutcome(`${baseUrl}/healthz`, { agent: false, signal: AbortSignal.timeout(limitMs) });
  return r.outcome === "200" ? r.ms : undefined;
}

/**
 * After an attack: waits until the server's CPU goes quiet (under 5 % of a core over
 * 250 ms) or `deadline` passes, so renders it finishes after the attacker left count too.
 * Returns the ms since `since` when it went quiet, undefined when it was still busy.
 */
export async function quietAfter(pid: number, since: number, deadline: number): Promise<number | undefined> {
  while (performance.now() < deadline) {
    const before = cpuSeconds(pid);
    await sleep(250);
    if (cpuSeconds(pid) - before < 0.0125) return performance.now() - since;
  }
  return undefined;
}

/** Apparent bytes of the files under a directory, by top-level entry (missing → 0). */
export async function bytesUnder(dir: string): Promise<{ total: number; byEntry: Record<string, number> }> {
  const byEntry: Record<string, number> = {};
  let total = 0;
  const walk = async (path: string): Promise<number> => {
    let sum = 0;
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) sum += await walk(child);
      else sum += await stat(child).then((s) => s.size, () => 0);
    }
    return sum;
  };
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const bytes = entry.isDirectory() ? await walk(join(dir, entry.name)) : await stat(join(dir, entry.name)).then((s) => s.size, () => 0);
    byEntry[entry.name] = bytes;
    total += bytes;
  }
  return { total, byEntry };
}

export interface CostSample {
  peakRssMiB: number;
  /** VmHWM at the end: the process's lifetime peak (start-up and setup included). */
  hwmMiB: number | undefined;
  cpuSeconds: number;
  storedBefore: number;
  /** The most stored at any sample (every 500 ms): staging files of held uploads count while they exist. */
  storedPeak: number;
  storedAfter: number;
  storedByEntry: Record<string, number>;
}

/** What the server spends during an attack: RSS sampled every 50 ms, CPU seconds, bytes under `storeDir`. */
export async function meterCost(pid: number, storeDir: string): Promise<{ stop(): Promise<CostSample> }> {
  const before = await bytesUnder(storeDir);
  const cpuBefore = cpuSeconds(pid);
  const rss = rssSampler(pid, 50);
  let storedPeak = before.total;
  let walking: Promise<void> | undefined;
  const timer = setInterval(() => {
    walking ??= bytesUnder(storeDir).then((b) => void (storedPeak = Math.max(storedPeak, b.total))).finally(() => (walking = undefined));
  }, 500);
  return {
    async stop() {
      clearInterval(timer);
      await walking;
      const peakRssMiB = rss();
      const cpu = cpuSeconds(pid) - cpuBefore;
      const hwmMiB = statusMiB(pid, "VmHWM");
      const after = await bytesUnder(storeDir);
      return {
        peakRssMiB, hwmMiB, cpuSeconds: cpu, storedBefore: before.total, storedPeak: Math.max(storedPeak, after.total),
        storedAfter: after.total, storedByEntry: after.byEntry,
      };
    },
  };
}

/** A small deterministic PRNG (mulberry32): the same flood of recipes in every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
