import { join } from "node:path";
import { parseByteSize } from "../../src/config/index.js";
import { describeTally, meterCost, pollHealth, quietAfter, recoveryMs, total, type CostSample, type HealthSample } from "../lib/abuse.js";
import { ATTACKS, type Attack, type AttackOutcome } from "../lib/attacks.js";
import { launchAssetd } from "../lib/kit.js";
import { sleep, stopChild } from "../lib/proc.js";
import type { Row, Scenario, ScenarioContext, ScenarioResult } from "../lib/types.js";

/** Used when ASSETD_VARIANT_CACHE_BYTES is not set: small enough that a few minutes of flood must evict. */
const BENCH_BUDGET = "128MiB";
const RSS_LIMIT_BYTES = 300e6;
const HEALTH_LIMIT_MS = 100;
/** A server stuck in synchronous work cannot run its shutdown: SIGKILL after this. */
const STOP_GRACE_MS = 2_000;

const MiB = 2 ** 20;

interface Budget {
  text: string;
  bytes: number;
  source: string;
}

function variantBudget(): Budget {
  const fromEnv = process.env.ASSETD_VARIANT_CACHE_BYTES;
  const text = fromEnv ?? BENCH_BUDGET;
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new Error(`ASSETD_VARIANT_CACHE_BYTES: expected a size such as 128MiB, got '${text}'`);
  return { text, bytes, source: fromEnv ? "ASSETD_VARIANT_CACHE_BYTES from the environment" : "the bench's ASSETD_VARIANT_CACHE_BYTES" };
}

interface Seconds {
  idle: number;
  attack: number;
  /** After the attack: waiting for /healthz to answer and the server's CPU to go quiet, at most this long. */
  after: number;
}

interface Measured {
  idle: HealthSample;
  during: HealthSample;
  cost: CostSample;
  outcome: AttackOutcome;
  recovery: number | undefined;
  quiet: number | undefined;
}

/**
 * One attack against a fresh assetd (its own data directory, so RSS, CPU and stored bytes
 * are the attack's alone): the owner uploads the target, /healthz is polled idle, then
 * during the attack; afterwards, how long until /healthz answers again, and the server stops.
 */
async function measure(ctx: ScenarioContext, result: ScenarioResult, attack: Attack, budget: Budget,
  seconds: Seconds): Promise<Measured> {
  const server = await launchAssetd(ctx, result, { ASSETD_VARIANT_CACHE_BYTES: budget.text }, `assetd-${attack.name}`);
  // Runs before the launcher's own stop (cleanups run in reverse): a frozen server is killed, not waited for.
  ctx.defer(() => stopChild(server.child, "SIGTERM", STOP_GRACE_MS));
  const armed = await attack.prepare(server, ctx);

  const idlePoll = pollHealth(server.url);
  await sleep(seconds.idle * 1000);
  const idle = await idlePoll.stop();

  const meter = await meterCost(server.pid, join(server.dataDir, "store"));
  const poll = pollHealth(server.url);
  const outcome = await armed.run(seconds.attack * 1000);
  const during = await poll.stop();
  const ended = performance.now();
  const recovery = await recoveryMs(server.url, seconds.after * 1000);
  const quiet = await quietAfter(server.pid, ended, ended + seconds.after * 1000);
  const cost = await meter.stop();
  // A server whose event loop does not answer cannot run its SIGTERM handler either.
  await stopChild(server.child, "SIGTERM", recovery === undefined ? 0 : STOP_GRACE_MS);

  ctx.log(`${attack.name}: /healthz p99 ${during.p99.toFixed(0)} ms (idle ${idle.p99.toFixed(1)} ms, ${during.unanswered} of ` +
    `${during.latencies.length} probes unanswered), peak RSS ${cost.peakRssMiB.toFixed(0)} MiB, CPU ${cost.cpuSeconds.toFixed(1)} s, ` +
    `stored +${((cost.storedPeak - cost.storedBefore) / MiB).toFixed(2)} MiB at peak, +${((cost.storedAfter - cost.storedBefore) / MiB).toFixed(2)} MiB after; answered ${describeTally(outcome.statuses)}` +
    `${outcome.ends ? `; ends ${describeTally(outcome.ends)}` : ""}; ${afterwards(recovery, quiet, seconds.after)}`);
  return { idle, during, cost, outcome, recovery, quiet };
}

function afterwards(recovery: number | undefined, quiet: number | undefined, limit: number): string {
  const health = recovery === undefined ? `/healthz still silent ${limit} s after the attack` : `/healthz answered ${recovery.toFixed(0)} ms after the attack`;
  return `${health}, the server ${quiet === undefined ? `still busy after ${limit} s` : `quiet after ${quiet.toFixed(0)} ms`}`;
}

function rowsFor(name: string, m: Measured, budget: Budget): Row[] {
  const grown = m.cost.storedPeak - m.cost.storedBefore;
  const pdf = name === "pdf-render";
  const ends = m.outcome.ends ? `; ends ${describeTally(m.outcome.ends)}` : "";
  return [
    { metric: `${name}: /healthz p99 ms${m.during.unanswered ? ` (${m.during.unanswered} unanswered)` : ""}`, unit: "",
      assetd: m.during.p99, peer: m.idle.p99, peerName: "idle, same server", ratio: m.during.p99 / m.idle.p99,
      ...(pdf ? { target: `< ${HEALTH_LIMIT_MS} ms`, pass: m.during.p99 < HEALTH_LIMIT_MS } : {}) },
    { metric: `${name}: peak RSS MB (VmRSS sampled every 50 ms)`, unit: "", assetd: (m.cost.peakRssMiB * MiB) / 1e6,
      target: "< 300 MB", pass: m.cost.peakRssMiB * MiB < RSS_LIMIT_BYTES },
    { metric: `${name}: server CPU-seconds`, unit: "", assetd: m.cost.cpuSeconds },
    { metric: `${name}: stored MiB added, peak (data dir store/)`, unit: "", assetd: grown / MiB,
      target: `≤ ${budget.text} budget`, pass: grown <= budget.bytes },
    { metric: `${name}: answered [${describeTally(m.outcome.statuses)}${ends}]`, unit: "", assetd: total(m.outcome.statuses) },
  ];
}

/**
 * Issue 13's attacks, one at a time, by a client with no token and one public asset to aim
 * at: a hostile PDF rendered at ever new widths, a flood of distinct large recipes, slow
 * readers of a large variant, and slow-loris uploads. Each prints what the server spent
 * (CPU, peak RSS, bytes stored) and how /healthz fared, next to the same server idle.
 */
export const abuse: Scenario = {
  name: "abuse",
  title: "one anonymous client, one public asset: bounded cost per attack",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick"
      ? { idle: 1, attack: 4, after: 2 }
      : { idle: 3, attack: 20, after: 10 };
    const budget = variantBudget();
    ctx.log(`variant budget ${budget.text} (${budget.source})`);
    const perAttack: Record<string, unknown> = {};
    for (const attack of ATTACKS) {
      const m = await measure(ctx, result, attack, budget, seconds);
      result.rows.push(...rowsFor(attack.name, m, budget));
      result.notes.push(`${attack.name}: ${m.outcome.summary}. Afterwards ${afterwards(m.recovery, m.quiet, seconds.after)}; ` +
        `the harness's own event-loop p99 during the attack was ${m.during.harnessLagP99.toFixed(1)} ms.`);
      const { latencies: _idle, ...idle } = m.idle;
      const { latencies: _during, ...during } = m.during;
      perAttack[attack.name] = { healthzIdle: idle, healthzDuring: during, cost: m.cost, recoveryMs: m.recovery ?? null, quietMs: m.quiet ?? null, ...m.outcome.details };
    }
    result.notes.push(
      `Each attack runs for ${seconds.attack} s against its own fresh assetd (own data directory), after ${seconds.idle} s of idle ` +
        "/healthz polling of that same server (the peer column). The owner uploads the target first; every attack request carries " +
        "no token, except the owner half of slowloris. Servers are stopped after each attack (SIGTERM, SIGKILL after " +
        `${STOP_GRACE_MS / 1000} s, at once when /healthz no longer answers), so one attack's leftovers never load the next.`,
      "/healthz is polled on a new connection every 50 ms from the harness process. A probe still unanswered when the attack stops " +
        "counts with the time it waited (a lower bound) once that exceeds 100 ms: a p99 near the attack's length means the server " +
        "did not answer at all; \"unanswered\" counts those and any non-200 answer.",
      "Stored bytes are the files under the data directory's store/ (originals, variants, staging) added by the attack, at " +
        "their peak (sampled every 500 ms, so staging files of held uploads count while they exist; the final figure is in the JSON); " +
        `the variant budget is ${budget.text} (${budget.source}; set it to measure another). CPU-seconds are the server's utime + stime ` +
        `from the attack's start until the server went quiet (at most ${seconds.after} s after it), so work it finished after ` +
        "the attacker left counts; peak RSS is VmRSS sampled every 50 ms over the same stretch (VmHWM in the JSON).",
      "The attackers, the poller and the server share the machine's cores; requests still in flight at the deadline are aborted " +
        "and counted as `unfinished`, 4xx/5xx answers and reset connections are outcomes, not harness errors.",
    );
    result.details = { ...result.details, budget, seconds, attacks: perAttack };
  },
};
