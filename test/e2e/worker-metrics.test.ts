import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND } from "../helpers/app.js";
import { freePort, spawnServer, type ServerProcess } from "../helpers/process.js";

/**
 * `assetd worker` runs the jobs but has no API: its own listener serves the registry those
 * jobs count into. An API process (`serve --no-worker`) and a worker share one SQLite data
 * directory; an upload through the API becomes an `extract-metadata` job on the worker.
 */

const skip = BACKEND === "scale" ? "already run in the default pass" : "";

/** The value of one series (`name{labels}`) in a Prometheus text body; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return 0;
}

describe.skipIf(Boolean(skip))("assetd worker serves /metrics", () => {
  const metricsToken = randomBytes(16).toString("hex");
  const processes: ServerProcess[] = [];
  let dataDir: string;
  let api: ServerProcess;
  let worker: ServerProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "assetd-worker-metrics-"));
    const env = { ASSETD_DATA_DIR: dataDir, ASSETD_JWT_SECRET: randomBytes(32).toString("hex"), ASSETD_METRICS_TOKEN: metricsToken };
    api = await spawnServer(["serve", "--no-worker"], env);
    processes.push(api);
    worker = await spawnServer(["worker"], { ...env, ASSETD_WORKER_METRICS_PORT: String(await freePort()) });
    processes.push(worker);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("names its metrics URL in the banner and answers only the metrics token", async () => {
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const anonymous = await fetch(worker.metricsUrl!);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const wrong = await fetch(worker.metricsUrl!, { headers: { authorization: "Bearer not-the-token" } });
    expect(wrong.status).toBe(401);
  });

  it("counts the jobs the worker ran for an upload made through the API", async () => {
    const image = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#3a7" } }).jpeg().toBuffer();
    const created = await fetch(`${api.url}/v1/assets?filename=w.jpg`, {
      method: "POST", body: image, headers: { authorization: `Bearer ${api.token}`, "content-type": "image/jpeg" },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const scrape = async () => {
      const response = await fetch(worker.metricsUrl!, { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const deadline = Date.now() + 30_000;
    let text = await scrape();
    while (sample(text, "assetd_jobs_total", { name: "extract-metadata", outcome: "done" }) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      text = await scrape();
    }
    expect(sample(text, "assetd_jobs_total", { name: "extract-metadata", outcome: "done" })).toBeGreaterThan(0);
    expect(text).toMatch(/^assetd_job_seconds_count\{name="extract-metadata"\} [1-9]/m);

    const manifest = await fetch(`${api.url}/v1/assets/${id}`, { headers: { authorization: `Bearer ${api.token}` } });
    expect(((await manifest.json()) as { status: string }).status).toBe("ready");
    // The API process ran no job: its registry has no such series.
    const apiText = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    expect(sample(apiText, "assetd_jobs_total", { name: "extract-metadata", outcome: "done" })).toBe(0);
  }, 60_000);
});
