import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { cpuMeter, cpuSeconds } from "./proc.js";

/**
 * wrk (Debian package) as the load generator of the throughput scenarios, pinned with
 * taskset to a core of its own while the server under test is pinned to another: a load
 * generator sharing the server's core measures itself, and autocannon in the harness
 * process tops out near one core by itself (it cannot tell a fast server from a faster one).
 */

export interface Pinning {
  /** The core the server under test runs on ("0"). */
  server: string;
  /** The core wrk runs on ("1"). */
  load: string;
}

/** Server on CPU 0, load on CPU 1: the layout on a 2-core machine; undefined on one core. */
export function defaultPinning(): Pinning | undefined {
  if (availableParallelism() < 2 || !hasTool("taskset")) return undefined;
  return { server: "0", load: "1" };
}

export function hasTool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).status === 0;
}

export function wrkVersion(): string {
  const result = spawnSync("wrk", ["-v"], { encoding: "utf8" });
  return `${result.stdout ?? ""}${result.stderr ?? ""}`.split("\n")[0]!.split(" [")[0]!.trim() || "not available";
}

/**
 * Pins every thread of `pid` (and threads it creates later, which inherit the mask) to
 * `cpus`. A process spawned before it could be pinned (assetd, nginx) is pinned this way.
 */
export function pin(pid: number, cpus: string): void {
  const result = spawnSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed: ${result.stderr}`);
}

export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  /** The core wrk runs on; undefined: not pinned. */
  cpu?: string;
  /** Pids whose CPU use is measured during the run (the server under test). */
  serverPids?: () => number[];
}

export interface WrkResult {
  /** 2xx/3xx responses per second (wrk's Requests/sec less non-2xx ones). */
  rps: number;
  requests: number;
  /** Latency percentiles in ms (wrk's --latency, HdrHistogram: microsecond resolution). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  mbPerSecond: number;
  seconds: number;
  /** Cores the server used (1.0 = one core busy), and wrk. */
  serverCpu: number | null;
  loadGeneratorCpu: number;
  /** req/s per core the server used: the figure that compares servers pinned to one core. */
  perCore: number | null;
}

/** Runs `wrk -t1 -cN -dS --latency` (pinned when `cpu` is given) and parses its report. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = ["-t1", `-c${o.connections}`, `-d${o.seconds}s`, "--latency", "--timeout", "30s"];
  for (const [name, value] of Object.entries(o.headers ?? {})) args.push("-H", `${name}: ${value}`);
  args.push(o.url);
  const [command, argv] = o.cpu === undefined ? ["wrk", args] : ["taskset", ["-c", o.cpu, "wrk", ...args]];
  const server = o.serverPids ? cpuMeter(o.serverPids) : undefined;
  const started = performance.now();
  const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  let wrkCpu = 0;
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    // Read wrk's CPU from /proc just before it is reaped (its last sample, near exit).
    const timer = setInterval(() => (wrkCpu = cpuSeconds(child.pid!) || wrkCpu), 200);
    child.once("exit", (exitCode) => {
      clearInterval(timer);
      resolve(exitCode);
    });
  });
  const serverCpu = server ? server() : null;
  const elapsed = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out.slice(0, 500)}`);
  return withPerCore({ ...parseWrk(out), serverCpu, loadGeneratorCpu: elapsed > 0 ? wrkCpu / elapsed : 0, perCore: null, seconds: o.seconds });
}

/** Adds req/s per server core once the server's CPU is known. */
export function withPerCore(r: WrkResult): WrkResult {
  return { ...r, perCore: r.serverCpu && r.serverCpu > 0.05 ? r.rps / Math.min(1, r.serverCpu) : null };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : Number.NaN;
}

/** Parses wrk 4's text report (with --latency). Exported for its unit test. */
export function parseWrk(out: string): Omit<WrkResult, "serverCpu" | "loadGeneratorCpu" | "perCore" | "seconds"> {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out);
    return m ? ms(m[1]!) : Number.NaN;
  };
  const requestsLine = /^\s+(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read/m.exec(out);
  if (!requestsLine) throw new Error(`unexpected wrk output: ${out.slice(0, 500)}`);
  const requests = Number(requestsLine[1]);
  const seconds = ms(requestsLine[2]!) / 1000;
  const bytes = Number(requestsLine[3]) * (SIZE[requestsLine[4]!] ?? 1);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const maxLine = /^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(out);
  return {
    requests: requests - non2xx,
    rps: seconds > 0 ? (requests - non2xx) / seconds : 0,
    p50: pct("50"), p90: pct("90"), p99: pct("99"),
    max: maxLine ? ms(maxLine[1]!) : Number.NaN,
    errors, non2xx,
    mbPerSecond: seconds > 0 ? bytes / seconds / 1e6 : 0,
  };
}

/** "12,345 req/s (13,000/core), p50 1.20 ms, p99 4.10 ms (server 0.95 cores, wrk 0.60)". */
export function describeWrk(r: WrkResult): string {
  const perCore = r.perCore === null ? "" : ` (${Math.round(r.perCore).toLocaleString("en-US")}/core)`;
  const bad = r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : "";
  const cpu = r.serverCpu === null ? "" : ` (server ${r.serverCpu.toFixed(2)} cores, wrk ${r.loadGeneratorCpu.toFixed(2)})`;
  return `${Math.round(r.rps).toLocaleString("en-US")} req/s${perCore}, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${bad}${cpu}`;
}
