import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rawKey } from "../../src/domain/content-address.js";
import { BACKEND, bearer, sha256 } from "../helpers/app.js";
import { BIN, spawnServer, type ServerProcess } from "../helpers/process.js";

// Real processes killed with SIGKILL in the middle of store-care work, on the embedded
// backend (SQLite, filesystem primary, filesystem replica / cold tier).

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tempDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `assetd-${name}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(env: Record<string, string>): Promise<ServerProcess> {
  const server = await spawnServer(["serve"], env);
  cleanups.push(() => server.stop("SIGKILL"));
  return server;
}

async function uploadMany(server: ServerProcess, count: number, size: number): Promise<Array<{ id: string; sha256: string; body: Buffer }>> {
  const assets = [];
  for (let i = 0; i < count; i++) {
    const body = randomBytes(size);
    const response = await fetch(`${server.url}/v1/assets?filename=f${i}.bin`, { method: "POST", body, headers: { ...bearer(server.token), "content-type": "application/octet-stream" } });
    expect(response.status).toBe(201);
    const { id } = await response.json() as { id: string };
    assets.push({ id, sha256: sha256(body), body });
  }
  return assets;
}

async function expectExact(server: ServerProcess, assets: Array<{ id: string; body: Buffer }>): Promise<void> {
  for (const asset of assets) {
    const response = await fetch(`${server.url}/a/${asset.id}`, { headers: bearer(server.token) });
    expect(response.status).toBe(200);
    expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(sha256(asset.body));
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const placement = async (server: ServerProcess, id: string) =>
  ((await (await fetch(`${server.url}/v1/assets/${id}`, { headers: bearer(server.token) })).json()) as { storage?: { tier: string; replicated: boolean } }).storage;

describe.skipIf(BACKEND !== "embedded")("store care survives kill -9", () => {
  it("replication: a server killed with copies queued finishes them after a restart, byte-exact", async () => {
    const dataDir = await tempDir("repl-data");
    const replicaDir = await tempDir("repl-replica");
    const env = { ASSETD_DATA_DIR: dataDir, ASSETD_REPLICA: `file://${replicaDir}`, ASSETD_RATE_LIMIT: "0" };
    const first = await serve(env);
    const assets = await uploadMany(first, 12, 3_000_000);
    first.child.kill("SIGKILL");
    await first.stop();
    const before = (await Promise.all(assets.map((a) => readFile(join(replicaDir, rawKey(a.sha256))).then(() => 1, () => 0)))).reduce<number>((n, x) => n + x, 0);

    const second = await serve(env);
    await until("every original replicated", async () => (await Promise.all(assets.map((a) => placement(second, a.id)))).every((p) => p?.replicated));
    for (const asset of assets) expect(sha256(await readFile(join(replicaDir, rawKey(asset.sha256))))).toBe(asset.sha256);
    await expectExact(second, assets);
    // No staging leftovers in the replica: only content objects.
    const files = (await readdir(join(replicaDir, "raw"), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(files).toHaveLength(assets.length);
    console.log(`replication fault test: ${before}/${assets.length} copies existed when the server was killed`);
  }, 180_000);

  it("lifecycle: a pass killed mid-move leaves every original readable, and the next pass completes", async () => {
    const dataDir = await tempDir("tier-data");
    const coldDir = await tempDir("tier-cold");
    const env = {
      ASSETD_DATA_DIR: dataDir, ASSETD_COLD_STORAGE: `file://${coldDir}`, ASSETD_COLD_AFTER_DAYS: "0", ASSETD_RATE_LIMIT: "0",
      ASSETD_LIFECYCLE_INTERVAL: "0", ASSETD_SCRUB_INTERVAL: "0",
    };
    const server = await serve(env);
    const assets = await uploadMany(server, 12, 3_000_000);

    // A lifecycle pass in its own process, killed as soon as the first original reached the cold tier.
    const pass = spawn(process.execPath, [BIN, "lifecycle"], { env: { ...process.env, ...env, ASSETD_LOG_LEVEL: "warn" }, stdio: "ignore" });
    const exited = new Promise((resolve) => pass.once("exit", resolve));
    await until("a first move", async () => (await readdir(join(coldDir, "raw")).catch(() => [])).length > 0, 30_000);
    pass.kill("SIGKILL");
    await exited;
    await expectExact(server, assets);

    const report = await (await fetch(`${server.url}/v1/admin/lifecycle`, { method: "POST", headers: bearer(server.token) })).json() as { moved: number; skipped: number };
    expect(report.skipped).toBe(0);
    const tiers = await Promise.all(assets.map((a) => placement(server, a.id)));
    expect(tiers.every((p) => p?.tier === "cold")).toBe(true);
    await expectExact(server, assets);
    for (const asset of assets) expect(sha256(await readFile(join(coldDir, rawKey(asset.sha256))))).toBe(asset.sha256);
    const scrub = await (await fetch(`${server.url}/v1/admin/scrub`, { method: "POST", headers: bearer(server.token) })).json();
    expect(scrub).toMatchObject({ checked: assets.length, corrupt: 0, missing: 0 });
    console.log(`lifecycle fault test: the pass after the kill moved ${report.moved} of ${assets.length}`);
  }, 180_000);

  it("gc: a pass killed mid-collection deletes nothing referenced, and the next pass collects the rest", async () => {
    const dataDir = await tempDir("gc-data");
    const env = { ASSETD_DATA_DIR: dataDir, ASSETD_GC_GRACE: "0", ASSETD_GC_INTERVAL: "0", ASSETD_RATE_LIMIT: "0" };
    const server = await serve(env);
    const kept = await uploadMany(server, 10, 500_000);
    const doomed = await uploadMany(server, 120, 200_000);
    for (const asset of doomed) {
      const res = await fetch(`${server.url}/v1/assets/${asset.id}?purge=true`, { method: "DELETE", headers: bearer(server.token) });
      expect(res.status).toBe(204);
    }
    const stored = async (sha: string) => readFile(join(dataDir, "store", rawKey(sha))).then(() => true, () => false);
    expect((await Promise.all(doomed.map((a) => stored(a.sha256)))).every(Boolean)).toBe(true);

    // A gc pass in its own process, killed as soon as it has removed some of the purged content.
    const pass = spawn(process.execPath, [BIN, "gc"], { env: { ...process.env, ...env, ASSETD_LOG_LEVEL: "warn" }, stdio: "ignore" });
    const exited = new Promise((resolve) => pass.once("exit", resolve));
    await until("a first removal", async () => (await Promise.all(doomed.slice(0, 40).map((a) => stored(a.sha256)))).some((x) => !x), 30_000);
    pass.kill("SIGKILL");
    await exited;
    const left = (await Promise.all(doomed.map((a) => stored(a.sha256)))).filter(Boolean).length;
    await expectExact(server, kept);

    const report = await (await fetch(`${server.url}/v1/admin/gc`, { method: "POST", headers: { ...bearer(server.token), "content-type": "application/json" }, body: "{}" })).json() as { errors: number };
    expect(report.errors).toBe(0);
    expect((await Promise.all(doomed.map((a) => stored(a.sha256)))).some(Boolean)).toBe(false);
    await expectExact(server, kept);
    // Nothing but the kept content under raw/.
    const files = (await readdir(join(dataDir, "store", "raw"), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(files).toHaveLength(kept.length);
    console.log(`gc fault test: ${left} of ${doomed.length} purged originals were still stored when the pass was killed`);
  }, 180_000);
});
