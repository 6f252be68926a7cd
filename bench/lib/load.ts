import autocannon from "autocannon";
import { cpuMeter, selfCpuMeter } from "./proc.js";

/** autocannon, run in the harness process with the same settings for both sides. */

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  /** Pids whose CPU use is measured during the run (the server under test). */
  serverPids?: () => number[];
}

export interface LoadResult {
  requests: number;
  /** 2xx responses per second. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mbPerSecond: number;
  seconds: number;
  /** Cores the server used (1.0 = one core fully busy), and the load generator. */
  serverCpu: number | null;
  loadGeneratorCpu: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const server = o.serverPids ? cpuMeter(o.serverPids) : undefined;
  const self = selfCpuMeter();
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    headers: o.headers ?? {},
    // Keep-alive, no pipelining: what browsers and CDNs do.
    pipelining: 1,
    timeout: 30,
  });
  const serverCpu = server ? server() : null;
  const loadGeneratorCpu = self();
  const ok = result["2xx"];
  return {
    requests: ok,
    rps: ok / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mbPerSecond: result.throughput.average / 1e6,
    seconds: result.duration,
    serverCpu,
    loadGeneratorCpu,
  };
}

/** One line for the log: "12,345 req/s p50 1 ms p99 4 ms (server 0.98 cores, autocannon 0.71)". */
export function describeLoad(r: LoadResult): string {
  const cpu = r.serverCpu === null ? "" : ` (server ${r.serverCpu.toFixed(2)} cores, load generator ${r.loadGeneratorCpu.toFixed(2)})`;
  const bad = r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : "";
  return `${Math.round(r.rps).toLocaleString("en-US")} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${bad}${cpu}`;
}
