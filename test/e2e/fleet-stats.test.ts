import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_URL, probePostgres } from "../db/databases.js";
import { BACKEND } from "../helpers/app.js";
import { dropTestDatabase, serverDatabaseUrl } from "../helpers/pg.js";
import { spawnServer, type ServerProcess } from "../helpers/process.js";

/**
 * `/v1/stats` speaks for the deployment, not for the process that answers: two API
 * processes on one database serve variants, and either reports the sum of their cache
 * hits, misses and renders, uploads and dedup; a restart of the whole fleet keeps them.
 * On SQLite (two processes on one file) and on PostgreSQL when it answers.
 */

interface Stats {
  variants: { count: number; served: number; rendered: number };
  cache: { hits: number; misses: number; hitRatio: number; renders: number };
  uploads: { total: number; deduplicated: number; bytes: number; deduplicatedBytes: number };
  gc: { bytesCollected: number; objectsRemoved: number };
  dedupSavedBytes: number;
}

const pgSkip = BACKEND === "scale" ? "already run in the default pass" : await probePostgres();
if (pgSkip) console.warn(`[fleet-stats] skipping PostgreSQL: ${pgSkip}`);
const skip = BACKEND === "scale" ? "already run in the default pass" : undefined;

describe.skipIf(Boolean(skip)).each([
  { dialect: "sqlite", skip: undefined },
  { dialect: "postgres", skip: pgSkip },
])("fleet-wide /v1/stats on $dialect", ({ dialect, skip: dialectSkip }) => {
  const processes: ServerProcess[] = [];
  const database = `assetd_fleet_${randomBytes(4).toString("hex")}`;
  let admin: pg.Client | undefined;
  let dataDir: string;
  let env: Record<string, string>;
  let image: Buffer;

  const start = async (args: string[]) => {
    const child = await spawnServer(args, env);
    processes.push(child);
    return child;
  };
  const stats = async (server: ServerProcess) => {
    const response = await fetch(`${server.url}/v1/stats`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as Stats;
  };
  /** Each process flushes its counts every few seconds: polled until `done` holds. */
  const statsWhen = async (server: ServerProcess, done: (s: Stats) => boolean) => {
    const deadline = Date.now() + 20_000;
    let seen = await stats(server);
    while (!done(seen) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      seen = await stats(server);
    }
    return seen;
  };

  beforeAll(async () => {
    if (dialectSkip) return;
    dataDir = await mkdtemp(join(tmpdir(), "assetd-fleet-"));
    env = { ASSETD_DATA_DIR: dataDir, ASSETD_JWT_SECRET: randomBytes(32).toString("hex") };
    if (dialect === "postgres") {
      admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`create database ${database}`);
      env.ASSETD_DATABASE_URL = serverDatabaseUrl(database);
    }
    image = await sharp({ create: { width: 80, height: 60, channels: 3, background: "#28c" } }).jpeg().toBuffer();
  }, 30_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    if (admin) {
      await dropTestDatabase(admin, database).catch(() => undefined);
      await admin.end();
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it.skipIf(Boolean(dialectSkip))("adds up both processes' hits, misses, renders and uploads, and keeps them across a restart", async () => {
    // One process runs the jobs; the other only answers requests.
    const a = await start(["serve"]);
    const b = await start(["serve", "--no-worker"]);
    const upload = async (server: ServerProcess) => {
      const response = await fetch(`${server.url}/v1/assets?filename=f.jpg`, {
        method: "POST", body: image, headers: { authorization: `Bearer ${server.token}`, "content-type": "image/jpeg" },
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    };
    const id = await upload(a);
    await upload(b); // the same bytes: deduplicated
    const deadline = Date.now() + 20_000;
    let status = "";
    while (status !== "ready" && Date.now() < deadline) {
      status = ((await (await fetch(`${a.url}/v1/assets/${id}`, { headers: { authorization: `Bearer ${a.token}` } })).json()) as { status: string }).status;
      if (status !== "ready") await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("ready");

    const get = async (server: ServerProcess) => {
      const response = await fetch(`${server.url}/a/${id}?w=40&fmt=png`, { headers: { authorization: `Bearer ${server.token}` } });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      return response.headers.get("x-cache");
    };
    expect(await get(a)).toBe("MISS");
    for (let i = 0; i < 3; i++) expect(await get(a)).toBe("HIT");
    for (let i = 0; i < 4; i++) expect(await get(b)).toBe("HIT");

    const expected = (s: Stats) => s.cache.hits === 7 && s.cache.misses === 1 && s.uploads.total === 2;
    for (const server of [a, b]) {
      const seen = await statsWhen(server, expected);
      expect(seen.cache).toEqual({ hits: 7, misses: 1, hitRatio: 7 / 8, renders: 1 });
      expect(seen.variants).toMatchObject({ count: 1, served: 8, rendered: 1 });
      expect(seen.uploads).toEqual({ total: 2, deduplicated: 1, bytes: 2 * image.length, deduplicatedBytes: image.length });
      expect(seen.dedupSavedBytes).toBe(image.length);
      expect(seen.gc).toEqual({ bytesCollected: 0, objectsRemoved: 0 });
    }

    // The whole fleet stops (SIGTERM: each flushes what it counted) and one process comes back.
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
    const again = await start(["serve", "--no-worker"]);
    const after = await stats(again);
    expect(after.cache).toEqual({ hits: 7, misses: 1, hitRatio: 7 / 8, renders: 1 });
    expect(after.uploads).toEqual({ total: 2, deduplicated: 1, bytes: 2 * image.length, deduplicatedBytes: image.length });
    expect(await get(again)).toBe("HIT");
    const later = await statsWhen(again, (s) => s.cache.hits === 8);
    expect(later.cache).toEqual({ hits: 8, misses: 1, hitRatio: 8 / 9, renders: 1 });
  }, 120_000);
});
