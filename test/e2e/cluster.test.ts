import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_URL, probePostgres } from "../db/databases.js";
import { s3TestTarget } from "../helpers/s3.js";
import { serverDatabaseUrl } from "../helpers/pg.js";
import { BACKEND, sha256 } from "../helpers/app.js";
import { freePort, spawnServer, type ServerProcess } from "../helpers/process.js";
import { deleteKeysStartingWith, probeRedis, REDIS_URL } from "../helpers/redis.js";

/**
 * The scale-out deployment for real: two `serve --no-worker` API processes and one
 * `worker` process sharing PostgreSQL, an S3-protocol store (Swift) and Redis (BullMQ and
 * cluster-wide locks). Skipped, with the reason printed, when any of the three is missing.
 */

const s3 = await s3TestTarget();
// Runs once, in the default pass; the ASSETD_TEST_BACKEND=scale pass re-runs the HTTP suites only.
const skip = BACKEND === "scale" ? "already run in the default pass"
  : [await probePostgres(), await probeRedis(), s3.skip].filter(Boolean).join("; ");
if (skip) console.warn(`[cluster] skipping the multi-process suite: ${skip}`);

/** Distinct small JPEGs: a solid colour each, so contents differ and decode fast. */
async function images(count: number): Promise<Buffer[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => sharp({
    create: { width: 64 + (i % 7), height: 48, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 } },
  }).jpeg().toBuffer()));
}

async function metricSum(urls: string[], name: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split("\n")) {
      const match = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
      if (match && match[1] === name) total += Number(match[3]);
    }
  }
  return total;
}

describe.skipIf(Boolean(skip))("several processes on PostgreSQL + S3 + Redis", () => {
  const database = `assetd_cluster_${randomBytes(4).toString("hex")}`;
  const prefix = `cluster-${randomBytes(4).toString("hex")}`;
  const processes: ServerProcess[] = [];
  let admin: pg.Client;
  let env: Record<string, string>;
  let apiA: ServerProcess;
  let apiB: ServerProcess;
  let worker: ServerProcess;
  let dataDir: string;

  const start = async (args: string[]) => {
    // The worker serves its own /metrics (the API processes' registries never see its jobs).
    const child = await spawnServer(args, args[0] === "worker" ? { ...env, ASSETD_WORKER_METRICS_PORT: String(await freePort()) } : env);
    processes.push(child);
    return child;
  };
  const query = async <T extends pg.QueryResultRow>(text: string) => {
    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    try {
      return (await client.query<T>(text)).rows;
    } finally {
      await client.end();
    }
  };
  const databaseUrl = () => serverDatabaseUrl(database);

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${database}`);
    dataDir = await mkdtemp(join(tmpdir(), "assetd-cluster-"));
    env = {
      ...s3.env,
      ASSETD_DATABASE_URL: databaseUrl(),
      ASSETD_STORAGE: s3.storageUrl(prefix),
      ASSETD_REDIS_URL: REDIS_URL,
      ASSETD_REDIS_PREFIX: prefix,
      ASSETD_JWT_SECRET: randomBytes(32).toString("hex"),
      ASSETD_DATA_DIR: dataDir,
      ASSETD_JOB_LEASE_MS: "3000",
      ASSETD_WORKER_CONCURRENCY: "2",
    };
    // Migrations run once, as an operator would before starting the fleet.
    const migrate = await import("node:child_process").then(({ spawnSync }) =>
      spawnSync(process.execPath, [join(import.meta.dirname, "../../bin/assetd.js"), "migrate"], { env: { ...process.env, ...env }, encoding: "utf8" }));
    expect(migrate.status, migrate.stderr).toBe(0);
    [apiA, apiB] = await Promise.all([start(["serve", "--no-worker"]), start(["serve", "--no-worker"])]);
    worker = await start(["worker"]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop("SIGKILL")));
    await admin?.query(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin?.end();
    await deleteKeysStartingWith(`${prefix}:`);
    await s3.cleanup(prefix);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  const auth = () => ({ authorization: `Bearer ${apiA.token}` });

  async function uploadAll(contents: Buffer[]): Promise<Array<{ id: string; sha256: string }>> {
    return Promise.all(contents.map(async (data, i) => {
      const api = i % 2 === 0 ? apiA : apiB;
      const response = await fetch(`${api.url}/v1/assets?filename=img-${i}.jpg`, {
        method: "POST", body: data, headers: { ...auth(), "content-type": "image/jpeg" },
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { id: string; sha256: string };
    }));
  }

  async function waitReady(ids: string[], timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const rows = await query<{ n: string }>(`select count(*) as n from asset where status = 'ready' and id in (${ids.map((id) => `'${id}'`).join(",")})`);
      if (Number(rows[0]!.n) === ids.length) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`only ${rows[0]!.n} of ${ids.length} assets ready`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it("ingests 200 concurrent uploads (30 % duplicates) through two APIs; every asset becomes ready", async () => {
    const distinct = await images(140);
    const contents = [...distinct, ...distinct.slice(0, 60)];
    const started = Date.now();
    const created = await uploadAll(contents);
    const seconds = (Date.now() - started) / 1000;
    console.log(`[cluster] 200 uploads in ${seconds.toFixed(2)} s (${(200 / seconds).toFixed(0)} uploads/s)`);
    const readyMs = await waitReady(created.map((c) => c.id), 60_000);
    console.log(`[cluster] all 200 ready ${readyMs} ms after the last upload`);

    const blobs = await query<{ sha256: string; refcount: number }>("select sha256, refcount from blob");
    expect(blobs).toHaveLength(140);
    const live = await query<{ blob_sha256: string; n: string }>("select blob_sha256, count(*) as n from asset where status <> 'deleted' group by blob_sha256");
    const liveBySha = new Map(live.map((r) => [r.blob_sha256, Number(r.n)]));
    for (const blob of blobs) expect(blob.refcount, blob.sha256).toBe(liveBySha.get(blob.sha256));
    expect(new Set(blobs.map((b) => b.sha256))).toEqual(new Set(distinct.map((d) => sha256(d))));
    expect(await s3.countObjects(`${prefix}/raw/`)).toBe(140);

    // Every first upload of a content ran its metadata job on the worker, through BullMQ.
    const workerMetrics = await (await fetch(worker.metricsUrl!)).text();
    const done = /^assetd_jobs_total\{name="extract-metadata",outcome="done"\} (\d+)$/m.exec(workerMetrics);
    expect(Number(done?.[1] ?? 0)).toBeGreaterThanOrEqual(140);
    expect(await metricSum([apiA.url, apiB.url], "assetd_jobs_total")).toBe(0);
  }, 120_000);

  it("collapses 100 concurrent identical misses across both APIs into one render", async () => {
    const [photo] = await uploadAll((await images(1)).map((b) => Buffer.concat([b]))).then((r) => r);
    const before = await metricSum([apiA.url, apiB.url], "assetd_variant_renders_total");
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      fetch(`${(i % 2 ? apiA : apiB).url}/a/${photo!.id}?w=32&fmt=png`, { headers: auth() })));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    const bodies = new Set(await Promise.all(responses.map(async (r) => sha256(new Uint8Array(await r.arrayBuffer())))));
    expect(bodies.size).toBe(1);
    expect(await metricSum([apiA.url, apiB.url], "assetd_variant_renders_total") - before).toBe(1);
  }, 60_000);

  it("recovers the jobs of a worker killed with SIGKILL mid-job", async () => {
    const created = await uploadAll(await images(80).then((list) => list.map((b, i) => Buffer.concat([b, Buffer.from(`pad-${i}-${prefix}`)]))));
    // Wait until the worker is busy, then kill it without any chance to clean up.
    const deadline = Date.now() + 20_000;
    let active = 0;
    while (Date.now() < deadline) {
      const stats = (await (await fetch(`${apiA.url}/v1/stats`, { headers: auth() })).json()) as { queues: Record<string, { active: number }> };
      active = stats.queues["extract-metadata"]!.active;
      if (active > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await worker.stop("SIGKILL");
    console.log(`[cluster] killed the worker with ${active} job(s) active`);
    const restarted = Date.now();
    worker = await start(["worker"]);
    const readyMs = await waitReady(created.map((c) => c.id), 60_000);
    console.log(`[cluster] all 80 ready ${Date.now() - restarted} ms after the new worker started (${readyMs} ms of polling)`);
    expect(active).toBeGreaterThan(0);
  }, 120_000);
});
