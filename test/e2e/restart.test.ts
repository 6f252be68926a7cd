import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BACKEND, sha256 } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";
import { spawnServer } from "../helpers/process.js";

// The embedded default only: the scale-out deployment has its own process test (cluster).
describe.skipIf(BACKEND !== "embedded")("a real server process restarted", () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps data and runs jobs left pending by the previous process", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "assetd-restart-"));
    const photo = fixture("photos/portrait-friends-2056x3088.jpg");

    // First life: API only, so the metadata job stays queued.
    const first = await spawnServer(["serve", "--no-worker"], { ASSETD_DATA_DIR: dataDir });
    const auth = { authorization: `Bearer ${first.token}` };
    const created = await fetch(`${first.url}/v1/assets?filename=friends.jpg`, {
      method: "POST", body: photo, headers: { ...auth, "content-type": "image/jpeg" },
    });
    expect(created.status).toBe(201);
    const asset = await created.json() as { id: string; status: string };
    expect(asset.status).toBe("verified");
    const stats = await (await fetch(`${first.url}/v1/stats`, { headers: auth })).json() as { queues: Record<string, { waiting: number }> };
    expect(stats.queues["extract-metadata"]!.waiting).toBe(1);
    expect(await first.stop()).toBe(0);

    // Second life: same data dir, workers on. The token still verifies (the secret persisted).
    const second = await spawnServer(["serve"], { ASSETD_DATA_DIR: dataDir });
    try {
      const deadline = Date.now() + 15_000;
      let manifest: { status: string; meta: { width: number; height: number } | null };
      do {
        await new Promise((r) => setTimeout(r, 100));
        manifest = await (await fetch(`${second.url}/v1/assets/${asset.id}`, { headers: auth })).json() as typeof manifest;
      } while (manifest.status === "verified" && Date.now() < deadline);
      expect(manifest.status).toBe("ready");
      expect(manifest.meta).toMatchObject({ width: 2056, height: 3088 });
      const original = await fetch(`${second.url}/a/${asset.id}`, { headers: auth });
      expect(sha256(new Uint8Array(await original.arrayBuffer()))).toBe(sha256(photo));
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it("refuses to start on a bad setting, naming the variable", async () => {
    await expect(spawnServer(["serve"], { ASSETD_PORT: "eighty", ASSETD_DATA_DIR: join(tmpdir(), "assetd-never") }, 10_000))
      .rejects.toThrow(/ASSETD_PORT: expected a whole number/);
  });
});
