/**
 * `npm run bench [-- <scenario>...] [--quick] [--json <path>] [--markdown <path>] [--profile]`
 *
 * Starts assetd (the embedded default) and its peers on loopback, runs each scenario
 * against both sides in the same run, prints one table (assetd | peer | ratio | target)
 * and writes JSON. Targets are reported, not asserted: the exit code is non-zero only when
 * the harness itself breaks (a scenario errored, bad arguments).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { REPO_ROOT } from "./lib/assetd.js";
import { machineInfo } from "./lib/machine.js";
import { backgroundCores } from "./lib/proc.js";
import { consoleTable, jsonDocument, machineLines, markdownDocument } from "./lib/report.js";
import { SkipScenario, type Mode, type ScenarioContext, type ScenarioResult } from "./lib/types.js";
import { SCENARIOS } from "./scenarios/index.js";

const USAGE = `usage: npm run bench -- [scenario...] [--quick] [--json <path>] [--markdown <path>] [--profile]

  scenario      one or more of: ${SCENARIOS.map((s) => s.name).join(", ")} (default: all)
  --quick       a few seconds per scenario, a 64 MiB ingest file, 128 MiB uploads (what CI runs)
  --json        where to write the results (default bench/out/results.json)
  --markdown    also write a RESULTS.md-style document there
  --profile     run assetd under node --cpu-prof and print its hottest functions per scenario
                (profiling slows the server: use for diagnosis, not for the figures)`;

interface Args {
  names: string[];
  mode: Mode;
  json: string;
  markdown?: string;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { names: [], mode: "full", json: join(REPO_ROOT, "bench", "out", "results.json"), profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (!v) throw new UsageError(`${a} needs a value`);
      return resolve(v);
    };
    if (a === "--quick") args.mode = "quick";
    else if (a === "--full") args.mode = "full";
    else if (a === "--json") args.json = value();
    else if (a === "--markdown") args.markdown = value();
    else if (a === "--profile") args.profile = true;
    else if (a === "--help" || a === "-h") throw new UsageError("");
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (!SCENARIOS.some((s) => s.name === a)) throw new UsageError(`unknown scenario "${a}"`);
    else args.names.push(a);
  }
  return args;
}

class UsageError extends Error {}

const log = (message: string) => process.stderr.write(`${message}\n`);

/** Cleanups of the scenario in progress, run on Ctrl-C too so no server is left behind. */
let pendingCleanups: Array<() => Promise<void> | void> = [];
async function runCleanups(): Promise<void> {
  const list = pendingCleanups.reverse();
  pendingCleanups = [];
  for (const fn of list) {
    try {
      await fn();
    } catch (error) {
      log(`  cleanup failed: ${(error as Error).message}`);
    }
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping servers...`);
    void runCleanups().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) log(`bench: ${error.message}`);
    log(USAGE);
    return error.message ? 2 : 0;
  }
  const selected = SCENARIOS.filter((s) => args.names.length === 0 || args.names.includes(s.name));
  const outDir = join(REPO_ROOT, "bench", "out");
  await mkdir(outDir, { recursive: true });
  const date = new Date().toISOString();

  log(`assetd bench (${args.mode} mode): ${selected.map((s) => s.name).join(", ")}`);
  const machine = await machineInfo(log, selected.some((s) => s.name === "cached-delivery"));
  for (const line of machineLines(machine)) log(line);

  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    log(`\n== ${scenario.name}: ${scenario.title}`);
    const result: ScenarioResult = { name: scenario.name, title: scenario.title, status: "ok", rows: [], notes: [], details: {}, profile: [], seconds: 0 };
    const tmpDir = await mkdtemp(join(tmpdir(), `assetd-bench-${scenario.name}-`));
    pendingCleanups = [() => rm(tmpDir, { recursive: true, force: true })];
    const ctx: ScenarioContext = {
      mode: args.mode, tmpDir, outDir, profile: args.profile,
      log: (m) => log(`  ${m}`),
      defer: (fn) => void pendingCleanups.push(fn),
    };
    // Other work on the machine (another build, a test suite) shows up as noise in the figures.
    const background = await backgroundCores(machine.cores);
    result.details.backgroundCoresBefore = Number(background.toFixed(2));
    if (background > 0.2) log(`  note: other work kept ${background.toFixed(2)} cores busy just before this scenario`);
    const started = performance.now();
    try {
      await scenario.run(ctx, result);
    } catch (error) {
      result.status = error instanceof SkipScenario ? "skipped" : "error";
      result.reason = error instanceof SkipScenario ? error.message : (error as Error).message ?? String(error);
      result.rows = [];
      log(`  ${result.status}: ${error instanceof SkipScenario ? error.message : ((error as Error).stack ?? String(error))}`);
    }
    await runCleanups();
    result.seconds = (performance.now() - started) / 1000;
    result.notes.push(`Other work on the machine just before the scenario (1 s whole-machine CPU sample with nothing of ours running): ` +
      `${background.toFixed(2)} of ${machine.cores} cores busy.`);
    if (args.profile) {
      result.notes.push("PROFILED RUN: assetd ran under node --cpu-prof, so its figures are lower than in a normal run.");
      for (const line of result.profile) log(`  ${line}`);
    }
    log(`  (${result.seconds.toFixed(1)} s)`);
    results.push(result);
  }

  process.stdout.write(`\nassetd benchmarks — ${date} — ${args.mode} mode\n`);
  for (const line of machineLines(machine)) process.stdout.write(`${line}\n`);
  process.stdout.write(`\n${consoleTable(results)}\n`);
  process.stdout.write("\nRatios are assetd ÷ peer unless the target says otherwise; targets are reported, not asserted.\n");

  await mkdir(dirname(args.json), { recursive: true });
  await writeFile(args.json, `${JSON.stringify(jsonDocument(results, machine, args.mode, date), null, 2)}\n`);
  process.stdout.write(`JSON: ${args.json}\n`);
  if (args.markdown) {
    await mkdir(dirname(args.markdown), { recursive: true });
    await writeFile(args.markdown, markdownDocument(results, machine, args.mode, date));
    process.stdout.write(`Markdown: ${args.markdown}\n`);
  }
  const errored = results.filter((r) => r.status === "error");
  if (errored.length) process.stdout.write(`\nharness error in: ${errored.map((r) => r.name).join(", ")}\n`);
  return errored.length ? 1 : 0;
}

main().then((code) => process.exit(code), async (error: unknown) => {
  log(`bench: ${(error as Error).stack ?? String(error)}`);
  await runCleanups();
  process.exit(1);
});
