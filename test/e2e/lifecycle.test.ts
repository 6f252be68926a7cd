import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rawKey } from "../../src/domain/content-address.js";
import { BACKEND, bearer, sha256, startApp, type TestApp } from "../helpers/app.js";

// The cold tier is a second filesystem directory on the embedded backend and another prefix
// of the test bucket on the scale one. The test S3 server (Swift) knows only the STANDARD
// storage class, so the S3 cold tier is exercised with `storageClass=STANDARD` in its URL;
// STANDARD_IA is the same CopyObject with another class name.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function coldLocation(): Promise<string> {
  if (BACKEND === "scale") {
    const { s3TestTarget } = await import("../helpers/s3.js");
    const s3 = await s3TestTarget();
    const prefix = `assetd_cold_${randomBytes(5).toString("hex")}`;
    cleanups.push(() => s3.cleanup(prefix));
    return `${s3.storageUrl(prefix)}&storageClass=STANDARD`;
  }
  const dir = await mkdtemp(join(tmpdir(), "assetd-cold-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return `file://${dir}`;
}

async function upload(app: TestApp, body: Uint8Array): Promise<{ id: string; sha256: string }> {
  const response = await fetch(`${app.url}/v1/assets?filename=f.bin`, { method: "POST", body, headers: { ...bearer(app.admin), "content-type": "application/octet-stream" } });
  expect(response.status).toBe(201);
  return await response.json() as { id: string; sha256: string };
}

const post = (app: TestApp, path: string) => fetch(`${app.url}${path}`, { method: "POST", headers: bearer(app.admin) });

describe("lifecycle tiering", () => {
  it("moves unread originals to the cold tier; reads keep working, the manifest and stats say where they are", async () => {
    const app = await startApp({ ASSETD_COLD_STORAGE: await coldLocation(), ASSETD_COLD_AFTER_DAYS: "0" });
    cleanups.push(() => app.close());
    const bodies = [randomBytes(40_000), randomBytes(90_000)];
    const assets = [];
    for (const body of bodies) assets.push(await upload(app, body));
    await new Promise((r) => setTimeout(r, 20));

    const response = await post(app, "/v1/admin/lifecycle");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ candidates: 2, moved: 2, bytes: 130_000, skipped: 0 });
    const { hot, cold } = app.runtime.storeCare.layers;
    for (const asset of assets) {
      expect(await hot.head(rawKey(asset.sha256))).toBeUndefined();
      expect(await cold!.head(rawKey(asset.sha256))).toBeDefined();
      const blob = await app.runtime.repos.blobs.get(asset.sha256);
      expect(blob).toMatchObject({ tier: "cold", storageKey: `cold/${rawKey(asset.sha256)}` });
    }
    const manifest = await (await fetch(`${app.url}/v1/assets/${assets[0]!.id}`, { headers: bearer(app.admin) })).json() as { storage: unknown };
    expect(manifest.storage).toEqual({ tier: "cold", replicated: false });
    for (const [i, asset] of assets.entries()) {
      const original = await fetch(`${app.url}/a/${asset.id}`, { headers: bearer(app.admin) });
      expect(original.status).toBe(200);
      expect(sha256(new Uint8Array(await original.arrayBuffer()))).toBe(sha256(bodies[i]!));
      const ranged = await fetch(`${app.url}/a/${asset.id}`, { headers: { ...bearer(app.admin), range: "bytes=10-19" } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer())).toEqual(Buffer.from(bodies[i]!.subarray(10, 20)));
    }
    const stats = await (await fetch(`${app.url}/v1/stats`, { headers: bearer(app.admin) })).json() as { storage: { byTier: unknown } };
    expect(stats.storage.byTier).toEqual({ hot: { blobs: 0, bytes: 0 }, cold: { blobs: 2, bytes: 130_000 } });

    // Nothing left to move; scrub verifies cold originals like hot ones.
    expect(await (await post(app, "/v1/admin/lifecycle")).json()).toMatchObject({ candidates: 0, moved: 0 });
    expect(await (await post(app, "/v1/admin/scrub")).json()).toMatchObject({ checked: 2, corrupt: 0, missing: 0 });
    // The same content uploaded again is deduplicated against the cold copy.
    const again = await upload(app, bodies[0]!);
    expect(again.sha256).toBe(assets[0]!.sha256);
    expect((await app.runtime.repos.blobs.get(again.sha256))!.refcount).toBe(2);
  }, 60_000);

  it("keeps recently read originals hot and answers 409 without a cold tier", async () => {
    const app = await startApp({ ASSETD_COLD_STORAGE: await coldLocation(), ASSETD_COLD_AFTER_DAYS: "1" });
    cleanups.push(() => app.close());
    await upload(app, randomBytes(10_000));
    expect(await (await post(app, "/v1/admin/lifecycle")).json()).toMatchObject({ candidates: 0, moved: 0 });

    const plain = await startApp();
    cleanups.push(() => plain.close());
    const refused = await post(plain, "/v1/admin/lifecycle");
    expect(refused.status).toBe(409);
  }, 60_000);
});

describe.skipIf(BACKEND !== "embedded")("read tracking", () => {
  it("records reads in batches, so an original read recently stays hot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "assetd-cold-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const app = await startApp({ ASSETD_COLD_STORAGE: `file://${dir}`, ASSETD_COLD_AFTER_DAYS: "0.00001" }); // 864 ms
    cleanups.push(() => app.close());
    const asset = await upload(app, randomBytes(10_000));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await fetch(`${app.url}/a/${asset.id}`, { headers: bearer(app.admin) })).status).toBe(200);
    await app.runtime.storeCare.flushReads();
    expect(await (await post(app, "/v1/admin/lifecycle")).json()).toMatchObject({ candidates: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await (await post(app, "/v1/admin/lifecycle")).json()).toMatchObject({ moved: 1 });
    expect(await readdir(join(dir, "raw"))).toHaveLength(1);
  });
});
