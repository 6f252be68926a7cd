import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { AssetdServer } from "./assetd.js";
import { REPO_ROOT } from "./assetd.js";
import { SkipScenario } from "./types.js";
import { defaultPinning, describeWrk, hasTool, runWrk, type Pinning, type WrkResult } from "./wrk.js";

/** What the pinned throughput scenarios (delivery, metadata) share: sides measured with wrk one after another. */

export interface Side {
  name: string;
  url: string;
  headers?: Record<string, string>;
  pids(): number[];
  /** assetd: its event-loop delay during the run, read from its /metrics. */
  server?: AssetdServer;
}

export interface LoopDelay {
  /** ms beyond the 10 ms sampling interval of prom-client's monitorEventLoopDelay. */
  p99: number;
  /** The longest stall seen during the run, ms (same correction). */
  max: number;
}

export interface SideResult extends WrkResult {
  loop?: LoopDelay;
}

/** prom-client samples the loop every 10 ms; a sample is the interval, so an idle loop reads 10 ms. */
const SAMPLING_MS = 10;

/** wrk on PATH, installing it through bench/setup.sh when missing; else the scenario is skipped. */
export function requireWrk(log: (message: string) => void): Pinning | undefined {
  if (!hasTool("wrk")) {
    log("wrk not found: running bench/setup.sh");
    const setup = spawnSync("bash", [join(REPO_ROOT, "bench", "setup.sh")], { encoding: "utf8", timeout: 300_000 });
    for (const line of `${setup.stdout ?? ""}${setup.stderr ?? ""}`.split("\n")) if (line.trim()) log(line.trim());
    if (!hasTool("wrk")) throw new SkipScenario("wrk not available (bench/setup.sh installs it)");
  }
  return defaultPinning();
}

/**
 * Each side in turn: a warm-up (JIT, caches), then the measured run. For assetd, /metrics
 * is read just before the measured run (which resets prom-client's loop-delay histogram)
 * and just after it, so the loop figures cover exactly the measured seconds.
 */
export async function measureSides(sides: readonly Side[], o: {
  connections: number; warmup: number; seconds: number; pinning: Pinning | undefined; log(message: string): void;
}): Promise<Record<string, SideResult>> {
  const out: Record<string, SideResult> = {};
  for (const side of sides) {
    const base = { url: side.url, connections: o.connections, ...(side.headers ? { headers: side.headers } : {}), ...(o.pinning ? { cpu: o.pinning.load } : {}) };
    await runWrk({ ...base, seconds: o.warmup });
    if (side.server) await side.server.metric("assetd_nodejs_eventloop_lag_max_seconds");
    const result: SideResult = await runWrk({ ...base, seconds: o.seconds, serverPids: side.pids });
    if (side.server) {
      const text = await side.server.metrics();
      const read = (name: string) => Math.max(0, metricValue(text, name) * 1000 - SAMPLING_MS);
      result.loop = { p99: read("assetd_nodejs_eventloop_lag_p99_seconds"), max: read("assetd_nodejs_eventloop_lag_max_seconds") };
    }
    const loop = result.loop ? `, loop delay p99 ${result.loop.p99.toFixed(1)} ms, longest stall ${result.loop.max.toFixed(1)} ms` : "";
    o.log(`${side.name}: ${describeWrk(result)}${loop}`);
    out[side.name] = result;
  }
  return out;
}

function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

export function pinningNote(pinning: Pinning | undefined, connections: number, warmup: number, seconds: number): string {
  const where = pinning
    ? `each server pinned to CPU ${pinning.server} (\`taskset -a -p -c ${pinning.server}\`), wrk to CPU ${pinning.load} (\`taskset -c ${pinning.load} wrk -t1\`)`
    : "NOT pinned (fewer than 2 cores or no taskset): server and wrk share the cores, so the figures are partly wrk's";
  return `${where}; ${connections} keep-alive connections, ${warmup} s warm-up then ${seconds} s measured per side, one side at a time. ` +
    "Per-core figures divide req/s by the cores the server process used (at most 1). Latency percentiles are wrk's (--latency).";
}
