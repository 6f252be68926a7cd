import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rawKey } from "../../src/domain/content-address.js";
import { hashStored } from "../../src/services/stored-bytes.js";
import { bearer, sha256, startApp, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

// Runs on both backends: the primary is the filesystem store (embedded) or S3 (scale); the
// replica is a second filesystem store either way. Primary objects are damaged through the
// primary store's own API (a real delete or overwrite on disk or in the bucket).

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function appWithReplica(env: Record<string, string> = {}): Promise<{ app: TestApp; replicaDir: string }> {
  const replicaDir = await mkdtemp(join(tmpdir(), "assetd-replica-"));
  const app = await startApp({ ASSETD_REPLICA: `file://${replicaDir}`, ...env });
  cleanups.push(async () => { await app.close(); await rm(replicaDir, { recursive: true, force: true }); });
  return { app, replicaDir };
}

async function upload(app: TestApp, body: Uint8Array, type = "application/octet-stream"): Promise<{ id: string; sha256: string }> {
  const response = await fetch(`${app.url}/v1/assets?filename=f.bin`, { method: "POST", body, headers: { ...bearer(app.admin), "content-type": type } });
  expect(response.status).toBe(201);
  return await response.json() as { id: string; sha256: string };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const replicated = (app: TestApp, sha: string) => until(`${sha} replicated`, async () => (await app.runtime.repos.blobs.get(sha))?.replicated === true);
const primaryIntact = async (app: TestApp, sha: string) => (await hashStored(app.runtime.storeCare.layers.hot, rawKey(sha)))?.sha256 === sha;

describe("replication and read failover", () => {
  it("copies new content to the replica, shows it in the manifest, and keeps reads byte-exact while primary objects are deleted and corrupted", async () => {
    const { app } = await appWithReplica();
    const bodies = [randomBytes(40_000), randomBytes(300_000), fixture("photos/cmyk-fig-1200x812.jpg")];
    const assets = [];
    for (const body of bodies) assets.push(await upload(app, body));
    for (const asset of assets) await replicated(app, asset.sha256);
    const manifest = await (await fetch(`${app.url}/v1/assets/${assets[0]!.id}`, { headers: bearer(app.admin) })).json() as { storage: unknown };
    expect(manifest.storage).toEqual({ tier: "hot", replicated: true });
    expect(await app.runtime.storeCare.layers.replica!.head(rawKey(assets[1]!.sha256))).toMatchObject({ size: 300_000 });

    // Concurrent readers of every original for the whole test; every answer must be exact.
    let reading = true;
    let reads = 0;
    const mismatches: string[] = [];
    const reader = async () => {
      while (reading) {
        for (const [i, asset] of assets.entries()) {
          const response = await fetch(`${app.url}/a/${asset.id}`, { headers: bearer(app.admin) });
          const bytes = new Uint8Array(await response.arrayBuffer());
          if (response.status !== 200 || sha256(bytes) !== sha256(bodies[i]!)) mismatches.push(`${i}: ${response.status} ${bytes.length}`);
          reads++;
        }
      }
    };
    const readers = Array.from({ length: 6 }, reader);
    await new Promise((r) => setTimeout(r, 300));
    const hot = app.runtime.storeCare.layers.hot;
    await hot.delete(rawKey(assets[0]!.sha256));
    const corrupt = Buffer.from(bodies[1]!);
    corrupt[1234] ^= 0xff;
    await hot.put(rawKey(assets[1]!.sha256), corrupt);
    await hot.put(rawKey(assets[2]!.sha256), bodies[2]!.subarray(0, 1000)); // truncated
    await until("the primary repaired", async () => (await Promise.all(assets.map((a) => primaryIntact(app, a.sha256)))).every(Boolean));
    await new Promise((r) => setTimeout(r, 300));
    reading = false;
    await Promise.all(readers);
    expect(mismatches).toEqual([]);
    expect(reads).toBeGreaterThan(30);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/assetd_replica_reads_total\{reason="missing"\} [1-9]/);
    expect(metrics).toMatch(/assetd_replica_reads_total\{reason="corrupt"\} [1-9]/);
  }, 60_000);

  it("renders variants from the replica when the primary lost the original", async () => {
    const { app } = await appWithReplica();
    const photo = fixture("photos/cmyk-fig-1200x812.jpg");
    const asset = await upload(app, photo, "image/jpeg");
    await replicated(app, asset.sha256);
    await until("ready", async () => (await app.runtime.repos.assets.get(asset.id))?.status === "ready");
    await app.runtime.storeCare.layers.hot.delete(rawKey(asset.sha256));
    const variant = await fetch(`${app.url}/a/${asset.id}?w=100&fmt=png`, { headers: bearer(app.admin) });
    expect(variant.status).toBe(200);
    expect(variant.headers.get("content-type")).toBe("image/png");
    await until("the primary repaired", () => primaryIntact(app, asset.sha256));
  }, 60_000);
});

describe("scrub", () => {
  it("finds missing and corrupt originals and repairs them from the replica", async () => {
    const { app } = await appWithReplica();
    const bodies = [randomBytes(50_000), randomBytes(60_000), randomBytes(70_000)];
    const assets = [];
    for (const body of bodies) assets.push(await upload(app, body));
    for (const asset of assets) await replicated(app, asset.sha256);
    const hot = app.runtime.storeCare.layers.hot;
    await hot.delete(rawKey(assets[0]!.sha256));
    await hot.put(rawKey(assets[1]!.sha256), randomBytes(60_000));

    const response = await fetch(`${app.url}/v1/admin/scrub`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: "{}" });
    expect(response.status).toBe(200);
    const report = await response.json() as Record<string, number>;
    expect(report).toMatchObject({ checked: 3, missing: 1, corrupt: 1, repaired: 2, failedAssets: 0 });
    expect(report.bytes).toBe(60_000 + 70_000);
    for (const asset of assets) expect(await primaryIntact(app, asset.sha256)).toBe(true);
    const blob = await app.runtime.repos.blobs.get(assets[2]!.sha256);
    expect(blob!.lastVerifiedAt).toBeGreaterThan(Date.now() - 60_000);

    const limited = await (await fetch(`${app.url}/v1/admin/scrub`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: JSON.stringify({ limit: 1 }) })).json() as Record<string, number>;
    expect(limited).toMatchObject({ checked: 1, missing: 0, corrupt: 0 });
    const bad = await fetch(`${app.url}/v1/admin/scrub`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: JSON.stringify({ limit: 0 }) });
    expect(bad.status).toBe(400);
    const user = await app.token("alice");
    expect((await fetch(`${app.url}/v1/admin/scrub`, { method: "POST", headers: bearer(user) })).status).toBe(403);
  }, 60_000);

  it("without a replica, marks the assets of damaged content failed with code corrupt", async () => {
    const app = await startApp();
    cleanups.push(() => app.close());
    const body = randomBytes(30_000);
    const asset = await upload(app, body);
    const intact = await upload(app, randomBytes(20_000));
    await app.runtime.storeCare.layers.hot.put(rawKey(asset.sha256), randomBytes(30_000));
    const report = await (await fetch(`${app.url}/v1/admin/scrub`, { method: "POST", headers: bearer(app.admin) })).json() as Record<string, number>;
    expect(report).toMatchObject({ checked: 2, corrupt: 1, repaired: 0, failedAssets: 1 });
    const manifest = await (await fetch(`${app.url}/v1/assets/${asset.id}`, { headers: bearer(app.admin) })).json() as { status: string; failure: { code: string } };
    expect(manifest.status).toBe("failed");
    expect(manifest.failure.code).toBe("corrupt");
    const events = await (await fetch(`${app.url}/v1/assets/${asset.id}/events`, { headers: bearer(app.admin) })).json() as { items: Array<{ to: string; reason: string }> };
    expect(events.items.at(-1)).toMatchObject({ to: "failed", reason: "scrub: content corrupt" });
    expect((await app.runtime.repos.assets.get(intact.id))!.status).not.toBe("failed");
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/assetd_blob_damage_total\{kind="corrupt",repaired="false"\} 1/);
  }, 60_000);
});
