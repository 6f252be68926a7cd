import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnServer, type ServerProcess } from "./helpers/process.js";

/**
 * The Prometheus rules and the Grafana dashboard under deploy/ against the real thing:
 * promtool accepts the rules and lints a live /metrics, and every series the rules and
 * panels query is one a running server exports (so neither can drift from the code).
 */

const run = promisify(execFile);
const PROMTOOL = "/usr/bin/promtool";
const RULES = fileURLToPath(new URL("../deploy/prometheus/assetd-rules.yml", import.meta.url));
const DASHBOARD = fileURLToPath(new URL("../deploy/grafana/assetd.json", import.meta.url));
const hasPromtool = existsSync(PROMTOOL);
if (!hasPromtool) console.log("deploy/prometheus: promtool is not installed (Debian: apt install prometheus); the rules and /metrics are not linted here");

/** The `expr:` of every rule: inline, or a `|` block indented below it. */
function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split("\n");
  const found: string[] = [];
  lines.forEach((line, i) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) return;
    if (match[2] !== "|" && match[2] !== ">") return void found.push(match[2]!);
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === "" || indent(lines[j]!) > match[1]!.length); j++) block.push(lines[j]!);
    found.push(block.join("\n"));
  });
  return found;
}
const indent = (line: string) => line.length - line.trimStart().length;

function dashboardExpressions(dashboard: { panels: Array<{ targets?: Array<{ expr: string }> }> }): string[] {
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
}

/** Metric names a /metrics body declares; a histogram's or summary's series names too. */
function exportedNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const match of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_count", "_sum"]) names.add(name + suffix);
    if (type === "summary") for (const suffix of ["_count", "_sum"]) names.add(name + suffix);
  }
  return names;
}

const metricsIn = (expr: string) => [...new Set(expr.match(/\bassetd_[a-z0-9_]+/g) ?? [])];

describe("deploy/prometheus and deploy/grafana", () => {
  let dataDir: string;
  let server: ServerProcess;
  let body: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "assetd-monitoring-"));
    server = await spawnServer(["serve"], { ASSETD_DATA_DIR: dataDir });
    const auth = { authorization: `Bearer ${server.token}` };
    // Traffic, so the series created on first use exist: an upload, its jobs, a miss, a hit, a 404.
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#c52" } }).jpeg().toBuffer();
    const created = await fetch(`${server.url}/v1/assets?filename=m.jpg`, { method: "POST", body: image, headers: { ...auth, "content-type": "image/jpeg" } });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const deadline = Date.now() + 20_000;
    let status = "";
    while (status !== "ready" && Date.now() < deadline) {
      status = ((await (await fetch(`${server.url}/v1/assets/${id}`, { headers: auth })).json()) as { status: string }).status;
      if (status !== "ready") await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("ready");
    for (let i = 0; i < 2; i++) expect((await fetch(`${server.url}/a/${id}?w=32&fmt=png`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/assets/00000000000000000000000000`, { headers: auth })).status).toBe(404);
    body = await (await fetch(`${server.url}/metrics`)).text();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it.skipIf(!hasPromtool)("promtool check rules accepts the alerting rules", async () => {
    const { stdout } = await run(PROMTOOL, ["check", "rules", RULES]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.skipIf(!hasPromtool)("promtool check metrics finds no problem in a live /metrics", async () => {
    const child = spawn(PROMTOOL, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = new Promise<number | null>((resolve) => child.once("close", resolve));
    child.stdin.end(body);
    expect({ code: await code, output }).toEqual({ code: 0, output: "" });
  });

  it("alerts on the signals operations asked for", async () => {
    const expressions = ruleExpressions(await readFile(RULES, "utf8")).join("\n");
    for (const metric of ["assetd_queue_depth", "assetd_variant_requests_total", "assetd_blob_damage_total", "assetd_replica_reads_total",
      "assetd_http_request_duration_seconds_count", "assetd_ready"]) {
      expect(expressions).toContain(metric);
    }
    expect(expressions).toMatch(/state="waiting"\}\)\s*>\s*5000/);
    expect(expressions).toMatch(/<\s*0\.85/);
    expect(expressions).toContain('state="dead"');
  });

  it("queries only metrics a running server exports, in the rules and in every dashboard panel", async () => {
    const exported = exportedNames(body);
    const rules = ruleExpressions(await readFile(RULES, "utf8"));
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { title: string; uid: string; panels: Array<{ targets?: Array<{ expr: string }> }> };
    const panels = dashboardExpressions(dashboard);
    expect(rules.length).toBeGreaterThanOrEqual(7);
    expect(panels.length).toBeGreaterThanOrEqual(20);
    const unknown: string[] = [];
    for (const expr of [...rules, ...panels]) {
      const used = metricsIn(expr);
      if (used.length === 0) unknown.push(`no assetd metric in: ${expr}`);
      for (const name of used) if (!exported.has(name)) unknown.push(`${name} (in: ${expr.trim()})`);
    }
    expect(unknown).toEqual([]);
    // The headline figures are on the dashboard.
    const all = panels.join("\n");
    for (const metric of ["assetd_http_request_duration_seconds_bucket", "assetd_variant_renders_total", "assetd_queue_depth",
      "assetd_stored_bytes", "assetd_dedup_saved_bytes"]) {
      expect(all).toContain(metric);
    }
  });

  it("exports the series the rules need once traffic has flowed", () => {
    expect(body).toMatch(/^assetd_variant_requests_total\{result="hit"\} [1-9]/m);
    expect(body).toMatch(/^assetd_jobs_total\{name="extract-metadata",outcome="done"\} [1-9]/m);
    expect(body).toMatch(/^assetd_queue_depth\{queue="extract-metadata",state="dead"\} 0$/m);
    expect(body).toMatch(/^assetd_stored_bytes\{tier="hot"\} [1-9]/m);
    expect(body).toMatch(/^assetd_ready 1$/m);
    expect(body).toMatch(/^assetd_dependency_up\{check="database"\} 1$/m);
  });
});
