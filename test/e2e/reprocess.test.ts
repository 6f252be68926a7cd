import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

describe("re-processing existing assets", () => {
  let app: TestApp;
  let owner: string;

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("rita");
  });
  afterAll(() => app.close());

  const post = (token: string, body: unknown) => fetch(`${app.url}/v1/admin/reprocess`, {
    method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
  });

  it("re-extracts the facts of ready assets, one or by type, without changing their state", async () => {
    const photo = (await upload(app, owner, fixture("photos/olympus-e-m1-kite-2560x1600.jpg"), { "content-type": "image/jpeg", prefer: "wait=10" })).body;
    const note = (await upload(app, owner, Buffer.from("plain text"), { "content-type": "text/plain", prefer: "wait=10" })).body;
    expect(photo.status).toBe("ready");
    // As if extracted by an older version that knew fewer facts.
    await app.runtime.repos.assets.replaceMeta(photo.id, "ready", { width: 2560 }, Date.now());

    expect((await post(owner, { assetId: photo.id })).status).toBe(403);
    expect((await post(app.admin, { type: "pictures" })).status).toBe(400);
    const one = await post(app.admin, { assetId: photo.id });
    expect(await json(one)).toEqual({ queued: 1 });

    const deadline = Date.now() + 15_000;
    let manifest;
    do {
      await new Promise((r) => setTimeout(r, 50));
      manifest = await json(await fetch(`${app.url}/v1/assets/${photo.id}`, { headers: bearer(owner) }));
    } while (manifest.meta.phash === undefined && Date.now() < deadline);
    expect(manifest.status).toBe("ready");
    expect(manifest.meta).toMatchObject({ width: 2560, height: 1600, format: "jpeg", phash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const events = await json(await fetch(`${app.url}/v1/assets/${photo.id}/events`, { headers: bearer(owner) }));
    expect(events.items.map((e: { to: string }) => e.to)).toEqual(["pending", "uploaded", "verified", "ready"]);

    const byType = await json(await post(app.admin, { type: "image" }));
    expect(byType.queued).toBe(1);
    const all = await json(await post(app.admin, {}));
    expect(all.queued).toBe(2);
    expect((await post(app.admin, { assetId: note.id })).status).toBe(200);
  });
});
