import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, settled, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
if (!hasFfmpeg) console.warn("[tenant-isolation] skipping the HLS case: Debian's ffmpeg is not installed");

const photo = fixture("formats/lossy-freshflower-800x602.webp");
const video = fixture("video/portrait-rotate-90-360x640-3s.mp4");

/** Two owners of the same bytes: how many variants and ladders the store ends up with. */
async function twoOwners(isolation: "shared" | "strict") {
  const app = await startApp({ ASSETD_TENANT_ISOLATION: isolation });
  const alice = await app.token("alice");
  const bob = await app.token("bob");
  const a = (await upload(app, alice, photo)).body.id;
  const b = (await upload(app, bob, photo)).body.id;
  const first = await fetch(`${app.url}/a/${a}?w=64&fmt=png`, { headers: bearer(alice) });
  const second = await fetch(`${app.url}/a/${b}?w=64&fmt=png`, { headers: bearer(bob) });
  return { app, alice, bob, first, second, variants: await app.runtime.repos.variants.listByBlob(sha256(photo)) };
}

describe("tenant isolation", () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it("shares one variant between owners of the same content by default", async () => {
    const { app, first, second, variants } = await twoOwners("shared");
    apps.push(app);
    expect(first.headers.get("etag")).toBe(second.headers.get("etag"));
    expect(variants).toHaveLength(1);
  });

  it("keeps one variant per owner with ASSETD_TENANT_ISOLATION=strict, the original still stored once", async () => {
    const { app, first, second, variants } = await twoOwners("strict");
    apps.push(app);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.headers.get("etag")).not.toBe(second.headers.get("etag"));
    expect(Buffer.from(await first.arrayBuffer()).equals(Buffer.from(await second.arrayBuffer()))).toBe(true);
    expect(variants).toHaveLength(2);
    const raw = (await app.storedObjects()).filter((key) => key.startsWith("raw/"));
    expect(raw).toHaveLength(1);
  });

  it.skipIf(!hasFfmpeg)("keeps one HLS ladder per owner with strict isolation", async () => {
    const app = await startApp({ ASSETD_TENANT_ISOLATION: "strict" });
    apps.push(app);
    const owners = [await app.token("alice"), await app.token("bob")];
    for (const token of owners) {
      const id = (await settled(app, token, (await upload(app, token, video, { "content-type": "video/mp4" })).body.id, 30_000)).id;
      const deadline = Date.now() + 120_000;
      let master = await fetch(`${app.url}/a/${id}/hls/master.m3u8`, { headers: bearer(token) });
      while (master.status === 202 && Date.now() < deadline) {
        await master.arrayBuffer();
        await new Promise((r) => setTimeout(r, 300));
        master = await fetch(`${app.url}/a/${id}/hls/master.m3u8`, { headers: bearer(token) });
      }
      expect(master.status).toBe(200);
      await master.arrayBuffer();
    }
    const masters = (await app.storedObjects()).filter((key) => key.startsWith("hls/") && key.endsWith("/master.m3u8"));
    expect(masters).toHaveLength(2);
  });
});
