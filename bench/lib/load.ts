import autocannon from "autocannon";
import { createRequire } from "node:module";
import { cpuMeter, selfCpuMeter } from "./proc.js";

/** autocannon, run in the harness process with the same settings for both sides. */

/**
 * autocannon keeps every response body as a JS string (`body += chunk` in
 * lib/pipelinedRequestsQueue.js) for its expectBody/verifyBody options. Decoding a 60 KB
 * binary body as UTF-8 costs about a millisecond of CPU, which capped autocannon at ~1,100
 * req/s with one core busy against nginx here (19,000 req/s without it). We use neither
 * option, so that one method is made a no-op at run time; byte counts and latencies are
 * recorded elsewhere and are unaffected. node_modules is not modified.
 */
export const bodyAccumulationDisabled: boolean = (() => {
  try {
    const queue = createRequire(import.meta.url)("autocannon/lib/pipelinedRequestsQueue.js") as { prototype?: { addBody?: unknown } };
    if (typeof queue.prototype?.addBody !== "function") return false;
    queue.prototype.addBody = function addBody(): void {};
    return true;
  } catch {
    return false;
  }
})();

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
