import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

describe("identity, visibility and the manifest API", () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let privateId: string;
  let publicId: string;

  beforeAll(async () => {
    app = await startApp();
    alice = await app.token("alice");
    bob = await app.token("bob");
    privateId = (await upload(app, alice, fixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg"), { "content-type": "image/jpeg", prefer: "wait=10" }, "?filename=lake.jpg")).body.id;
    publicId = (await upload(app, alice, fixture("formats/lossy-freshflower-800x602.webp"), {}, `?public=true&filename=flower.webp&tags=${encodeURIComponent(JSON.stringify({ album: "garden" }))}`)).body.id;
  });
  afterAll(() => app.close());

  it("hides private assets from others with 404, manifest and delivery alike", async () => {
    for (const headers of [{}, bearer(bob)]) {
      const manifest = await fetch(`${app.url}/v1/assets/${privateId}`, { headers });
      expect(manifest.status).toBe(404);
      expect((await json(manifest)).error.code).toBe("not_found");
      expect((await fetch(`${app.url}/a/${privateId}`, { headers })).status).toBe(404);
      expect((await fetch(`${app.url}/a/${privateId}?w=10`, { headers })).status).toBe(404);
    }
    expect((await fetch(`${app.url}/v1/assets/${privateId}`, { headers: bearer(app.admin) })).status).toBe(200);
  });

  it("lets anyone read public assets, with immutable caching", async () => {
    const res = await fetch(`${app.url}/a/${publicId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    await res.arrayBuffer();
    expect((await fetch(`${app.url}/v1/assets/${publicId}`)).status).toBe(200);
  });

  it("refuses an invalid token even on public delivery (never silently anonymous)", async () => {
    const res = await fetch(`${app.url}/a/${publicId}`, { headers: bearer("garbage") });
    expect(res.status).toBe(401);
    expect((await json(res)).error.code).toBe("invalid_token");
  });

  it("shows GPS coordinates to the owner only", async () => {
    const own = await json(await fetch(`${app.url}/v1/assets/${privateId}`, { headers: bearer(alice) }));
    expect(own.meta.exif.hasGps).toBe(true);
    expect(own.meta.exif.gps.latitude).toBeCloseTo(60.16952, 4);
    await fetch(`${app.url}/v1/assets/${privateId}`, { method: "PATCH", headers: { ...bearer(alice), "content-type": "application/json" }, body: JSON.stringify({ public: true }) });
    const other = await json(await fetch(`${app.url}/v1/assets/${privateId}`, { headers: bearer(bob) }));
    expect(other.meta.exif.hasGps).toBe(true);
    expect(other.meta.exif.gps).toBeUndefined();
    await fetch(`${app.url}/v1/assets/${privateId}`, { method: "PATCH", headers: { ...bearer(alice), "content-type": "application/json" }, body: JSON.stringify({ public: false }) });
  });

  it("patches filename, public and tags; others may not", async () => {
    const patch = (token: string, body: unknown) => fetch(`${app.url}/v1/assets/${publicId}`, {
      method: "PATCH", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
    });
    const res = await patch(alice, { filename: "rose.webp", tags: { album: null, color: "red" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ filename: "rose.webp", tags: { color: "red" } });
    expect((await patch(bob, { filename: "mine.webp" })).status).toBe(403);
    const bad = await patch(alice, { public: "yes" });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({ code: "invalid_parameter", parameter: "public" });
    await patch(alice, { tags: { album: "garden", color: null } });
  });

  it("lists visible assets newest first with filters and an opaque cursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await upload(app, bob, Buffer.from(`note ${i}`), { "content-type": "text/plain" }, `?filename=note-${i}.txt&tags=${encodeURIComponent(JSON.stringify({ n: String(i % 2) }))}`)).body.id);
    }
    const list = async (token: string, query: string) => json(await fetch(`${app.url}/v1/assets?${query}`, { headers: bearer(token) }));

    const page1 = await list(bob, "limit=2");
    expect(page1.items.map((i: { id: string }) => i.id)).toEqual([ids[4], ids[3]]);
    expect(page1.next).toEqual(expect.any(String));
    const page2 = await list(bob, `limit=2&cursor=${page1.next}`);
    expect(page2.items.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);

    const bobsOwn = await list(bob, "owner=bob&limit=100");
    expect(bobsOwn.items).toHaveLength(5);
    // Bob sees his own and alice's public asset, never her private one.
    const visible = (await list(bob, "limit=100")).items.map((i: { id: string }) => i.id);
    expect(visible).toContain(publicId);
    expect(visible).not.toContain(privateId);

    expect((await list(bob, "owner=bob&tag=n:1")).items.map((i: { id: string }) => i.id)).toEqual([ids[3], ids[1]]);
    expect((await list(bob, "owner=bob&q=NOTE-4")).items.map((i: { id: string }) => i.id)).toEqual([ids[4]]);
    expect((await list(alice, "type=image")).items.every((i: { kind: string }) => i.kind === "image")).toBe(true);
    expect((await list(bob, "owner=bob&type=document")).items).toHaveLength(5);
    expect((await list(bob, `owner=bob&createdAfter=${new Date(Date.now() + 60_000).toISOString()}`)).items).toHaveLength(0);

    const badCursor = await fetch(`${app.url}/v1/assets?cursor=zzz`, { headers: bearer(bob) });
    expect(badCursor.status).toBe(400);
    expect((await fetch(`${app.url}/v1/assets?limit=5000`, { headers: bearer(bob) })).status).toBe(400);
    // status=deleted is one's own trash.
    const trash = await fetch(`${app.url}/v1/assets?status=deleted`, { headers: bearer(bob) });
    expect(trash.status).toBe(200);
    expect((await json(trash)).items.every((i: { owner: string }) => i.owner === "bob")).toBe(true);
  });

  it("soft-deletes: 404 to the owner, visible as deleted to admins", async () => {
    const id = (await upload(app, bob, Buffer.from("short-lived"), { "content-type": "text/plain" })).body.id;
    expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(alice) })).status).toBe(404);
    expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(bob) })).status).toBe(204);
    expect((await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(bob) })).status).toBe(404);
    const asAdmin = await json(await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(app.admin) }));
    expect(asAdmin.status).toBe("deleted");
    const deleted = await json(await fetch(`${app.url}/v1/assets?status=deleted`, { headers: bearer(app.admin) }));
    expect(deleted.items.map((i: { id: string }) => i.id)).toContain(id);
    expect((await json(await fetch(`${app.url}/v1/assets?limit=1000`, { headers: bearer(app.admin) }))).items.map((i: { id: string }) => i.id)).not.toContain(id);
  });

  it("reports stats per owner and for the service", async () => {
    const mine = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(alice) }));
    expect(mine.scope).toBe("owner");
    expect(mine.assets.byType.image).toBe(2);
    const all = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(app.admin) }));
    expect(all.scope).toBe("service");
    expect(all.logicalBytes).toBeGreaterThanOrEqual(mine.logicalBytes);
    expect(all.queues["extract-metadata"]).toEqual(expect.objectContaining({ waiting: expect.any(Number), dead: 0 }));
    expect((await fetch(`${app.url}/v1/stats`)).status).toBe(401);
  });

  it("exposes health, readiness and metrics", async () => {
    expect(await json(await fetch(`${app.url}/healthz`))).toEqual({ status: "ok" });
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await json(ready)).checks).toEqual({ database: { ok: true }, store: { ok: true }, queue: { ok: true } });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain("assetd_http_request_duration_seconds_bucket");
    expect(metrics).toContain('assetd_queue_depth{queue="extract-metadata",state="waiting"}');
    expect(metrics).toContain("assetd_dedup_saved_bytes");
  });
});
