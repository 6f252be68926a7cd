import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probePostgres, PG_URL } from "../db/databases.js";
import { BACKEND, bearer, metric, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";
import { serverDatabaseUrl } from "../helpers/pg.js";
import { BIN, spawnServer, type ServerProcess } from "../helpers/process.js";
import { probeRedis } from "../helpers/redis.js";
import { s3TestTarget } from "../helpers/s3.js";

/**
 * The hot-metadata cache (README "Hot-metadata cache"): delivery answers from memory, and
 * still refuses the very next request after access is taken away — at once in the process
 * that made the change, within moments in the others (Redis pub/sub), and within the TTL
 * when Redis is gone.
 */

const photo = fixture("formats/lossy-freshflower-800x602.webp");

describe("the hot-metadata cache in one process", () => {
  let app: TestApp;
  let alice: string;
  let bob: string;

  // A TTL far beyond the test: only an invalidation can explain a refusal.
  beforeAll(async () => {
    app = await startApp({ ASSETD_META_CACHE_TTL_MS: "600000" });
    alice = await app.token("alice");
    bob = await app.token("bob");
  });
  afterAll(() => app.close());

  const asAlice = (method: string, path: string, body?: unknown) => fetch(`${app.url}${path}`, {
    method, headers: { ...bearer(alice), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const status = async (path: string, token?: string) => {
    const response = await fetch(`${app.url}${path}`, { headers: token ? bearer(token) : {} });
    await response.arrayBuffer();
    return response.status;
  };
  async function fresh(): Promise<string> {
    const id = (await upload(app, alice, photo, {}, "?filename=shared.webp")).body.id as string;
    await settled(app, alice, id);
    return id;
  }

  it("serves a shared asset from memory and refuses the very next request once the grant is revoked", async () => {
    const id = await fresh();
    expect((await asAlice("POST", `/v1/assets/${id}/acl`, { principal: "bob", permission: "read" })).status).toBe(201);
    const hitsBefore = await metric(app, "assetd_meta_cache_requests_total", { result: "hit" });
    for (let i = 0; i < 3; i++) expect(await status(`/a/${id}?w=40&fmt=webp`, bob)).toBe(200);
    expect(await status(`/a/${id}`, bob)).toBe(200);
    expect(await metric(app, "assetd_meta_cache_requests_total", { result: "hit" })).toBeGreaterThanOrEqual(hitsBefore + 3);

    expect((await asAlice("DELETE", `/v1/assets/${id}/acl?principal=bob&permission=read`)).status).toBe(204);
    expect(await status(`/a/${id}?w=40&fmt=webp`, bob)).toBe(404);
    expect(await status(`/a/${id}`, bob)).toBe(404);
    // The owner still reads it; the cache holds inputs to the check, not anyone's answer.
    expect(await status(`/a/${id}?w=40&fmt=webp`, alice)).toBe(200);
    expect(await metric(app, "assetd_meta_cache_invalidations_total", { origin: "local" })).toBeGreaterThan(0);
  });

  it("sees a grant replaced, and public turned on and off, on the next request", async () => {
    const id = await fresh();
    expect(await status(`/a/${id}?w=40`, bob)).toBe(404);
    expect((await asAlice("PUT", `/v1/assets/${id}/acl`, { grants: [{ principal: "bob", permission: "read" }] })).status).toBe(200);
    expect(await status(`/a/${id}?w=40`, bob)).toBe(200);
    expect((await asAlice("PUT", `/v1/assets/${id}/acl`, { grants: [] })).status).toBe(200);
    expect(await status(`/a/${id}?w=40`, bob)).toBe(404);

    expect(await status(`/a/${id}?w=40`)).toBe(404);
    expect((await asAlice("PATCH", `/v1/assets/${id}`, { public: true })).status).toBe(200);
    expect(await status(`/a/${id}?w=40`)).toBe(200);
    expect(await status(`/a/${id}?w=40`)).toBe(200);
    expect((await asAlice("PATCH", `/v1/assets/${id}`, { public: false })).status).toBe(200);
    expect(await status(`/a/${id}?w=40`)).toBe(404);
  });

  it("sees the trash, a restore and a purge on the next request", async () => {
    const id = await fresh();
    await asAlice("PATCH", `/v1/assets/${id}`, { public: true });
    expect(await status(`/a/${id}?w=40`)).toBe(200);
    expect((await asAlice("DELETE", `/v1/assets/${id}`)).status).toBe(204);
    expect(await status(`/a/${id}?w=40`)).toBe(404);
    expect(await status(`/a/${id}`, alice)).toBe(404);
    expect((await asAlice("POST", `/v1/assets/${id}/restore`)).status).toBe(200);
    expect(await status(`/a/${id}?w=40`)).toBe(200);
    expect((await asAlice("DELETE", `/v1/assets/${id}?purge=true`)).status).toBe(204);
    expect(await status(`/a/${id}?w=40`)).toBe(404);
  });
});

/** A TCP port nothing listens on right now. */
async function sparePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while ((await probeRedis(url)) !== undefined) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

const redisServer = spawnSync("redis-server", ["--version"]).status === 0 ? undefined : "redis-server is not installed";
const s3 = await s3TestTarget();
const scaleSkip = BACKEND !== "scale" ? "set ASSETD_TEST_BACKEND=scale (PostgreSQL + S3 + Redis) to run it"
  : [await probePostgres(), s3.skip, redisServer].filter(Boolean).join("; ");
if (scaleSkip) console.warn(`[meta-cache] skipping the two-process suite: ${scaleSkip}`);

describe.skipIf(Boolean(scaleSkip))("the hot-metadata cache across two processes (PostgreSQL + S3 + Redis)", () => {
  const TTL_MS = 2000;
  const database = `assetd_meta_${randomBytes(4).toString("hex")}`;
  const prefix = `meta-${randomBytes(4).toString("hex")}`;
  let admin: pg.Client;
  let redis: ChildProcess | undefined;
  let dataDir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${database}`);
    const port = await sparePort();
    redis = await startRedis(port);
    dataDir = await mkdtemp(join(tmpdir(), "assetd-meta-"));
    const env = {
      ...s3.env,
      ASSETD_DATABASE_URL: serverDatabaseUrl(database),
      ASSETD_STORAGE: s3.storageUrl(prefix),
      ASSETD_REDIS_URL: `redis://127.0.0.1:${port}`,
      ASSETD_REDIS_PREFIX: prefix,
      ASSETD_JWT_SECRET: randomBytes(32).toString("hex"),
      ASSETD_DATA_DIR: dataDir,
      ASSETD_META_CACHE_TTL_MS: String(TTL_MS),
    };
    const migrate = spawnSync(process.execPath, [BIN, "migrate"], { env: { ...process.env, ...env }, encoding: "utf8" });
    expect(migrate.status, migrate.stderr).toBe(0);
    [a, b] = await Promise.all([spawnServer(["serve"], env), spawnServer(["serve", "--no-worker"], env)]);
    alice = mint(env, "alice");
    bob = mint(env, "bob");
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
    redis?.kill("SIGKILL");
    await admin?.query(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin?.end();
    await s3.cleanup(prefix);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  function mint(env: Record<string, string>, sub: string): string {
    const out = spawnSync(process.execPath, [BIN, "token", "--sub", sub], { env: { ...process.env, ...env }, encoding: "utf8" });
    expect(out.status, out.stderr).toBe(0);
    return /(eyJ[\w-]+\.[\w-]+\.[\w-]+)/.exec(out.stdout)![1]!;
  }
  const status = async (server: ServerProcess, path: string, token: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: bearer(token) });
    await response.arrayBuffer();
    return response.status;
  };
  const grant = (method: "POST" | "DELETE", id: string, principal: string) => fetch(
    method === "POST" ? `${a.url}/v1/assets/${id}/acl` : `${a.url}/v1/assets/${id}/acl?principal=${principal}&permission=read`,
    method === "POST"
      ? { method, headers: { ...bearer(alice), "content-type": "application/json" }, body: JSON.stringify({ principal, permission: "read" }) }
      : { method, headers: bearer(alice) },
  );
  async function shared(): Promise<string> {
    const created = await fetch(`${a.url}/v1/assets?filename=shared.webp`, { method: "POST", body: photo, headers: bearer(alice) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const deadline = Date.now() + 20_000;
    while ((await (await fetch(`${a.url}/v1/assets/${id}`, { headers: bearer(alice) })).json() as { status: string }).status !== "ready") {
      if (Date.now() > deadline) throw new Error(`asset ${id} never became ready`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await grant("POST", id, "bob")).status).toBe(201);
    return id;
  }
  /** Milliseconds until `server` refuses bob, polled every 20 ms up to `limitMs`. */
  async function refusedWithin(server: ServerProcess, path: string, limitMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started <= limitMs) {
      if ((await status(server, path, bob)) === 404) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${path} still served to bob ${limitMs} ms after the revoke`);
  }

  it("refuses in process B a grant revoked in process A within a second", async () => {
    const id = await shared();
    const path = `/a/${id}?w=200&fmt=webp`;
    // B renders it, then answers from the asset's facts in memory.
    const hits = await metric({ url: b.url } as TestApp, "assetd_meta_cache_requests_total", { result: "hit" });
    for (let i = 0; i < 3; i++) expect(await status(b, path, bob)).toBe(200);
    expect(await metric({ url: b.url } as TestApp, "assetd_meta_cache_requests_total", { result: "hit" })).toBeGreaterThanOrEqual(hits + 2);
    expect((await grant("DELETE", id, "bob")).status).toBe(204);
    const ms = await refusedWithin(b, path, 1000);
    console.log(`[meta-cache] process B refused the revoked grant ${ms} ms after process A's revoke`);
    expect(await status(a, path, bob)).toBe(404);
  }, 60_000);

  it("keeps delivering with Redis gone, and a revoke still takes effect within the TTL", async () => {
    const id = await shared();
    const path = `/a/${id}?w=200&fmt=webp`;
    for (let i = 0; i < 3; i++) expect(await status(b, path, bob)).toBe(200);
    redis!.kill("SIGKILL");
    await new Promise((resolve) => redis!.once("exit", resolve));
    // Past a whole TTL without Redis: entries expire and the database is asked again.
    const until = Date.now() + TTL_MS + 500;
    while (Date.now() < until) {
      expect(await status(b, path, bob)).toBe(200);
      expect(await status(a, path, bob)).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await grant("DELETE", id, "bob")).status).toBe(204);
    expect(await status(a, path, bob)).toBe(404);
    // B never hears of it: its entry, at most TTL old, expires and the database says no.
    const ms = await refusedWithin(b, path, TTL_MS + 500);
    console.log(`[meta-cache] with Redis down, process B refused the revoked grant ${ms} ms after the revoke (TTL ${TTL_MS} ms)`);
  }, 60_000);
});
