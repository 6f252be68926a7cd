import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

describe("streaming ingest", () => {
  let app: TestApp;
  let alice: string;
  const stored = () => app.storedObjects();

  beforeAll(async () => {
    app = await startApp({ ASSETD_MAX_UPLOAD_BYTES: "4MiB" });
    alice = await app.token("alice");
  });
  afterAll(() => app.close());

  it("stores a photo and returns its manifest, then serves the same bytes", async () => {
    const photo = fixture("photos/canon-eos-400d-storm-1920x1280.jpg");
    const res = await upload(app, alice, photo, { "content-type": "image/jpeg" }, "?filename=storm.jpg");
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/assets/${res.body.id}`);
    expect(res.body).toMatchObject({
      owner: "alice", filename: "storm.jpg", contentType: "image/jpeg", size: photo.length, sha256: sha256(photo), public: false,
    });
    expect(["verified", "ready"]).toContain(res.body.status);
    expect(res.body.urls.original).toBe(`${app.url}/a/${res.body.id}`);

    const original = await fetch(`${app.url}/a/${res.body.id}`, { headers: bearer(alice) });
    expect(original.status).toBe(200);
    expect(sha256(new Uint8Array(await original.arrayBuffer()))).toBe(sha256(photo));

    const ready = await settled(app, alice, res.body.id);
    expect(ready.status).toBe("ready");
    expect(ready.meta).toMatchObject({ width: 1920, height: 1280, format: "jpeg" });
    expect(ready.meta.exif).toMatchObject({ make: "Canon", model: "Canon EOS 400D DIGITAL" });

    const events = await json(await fetch(`${app.url}/v1/assets/${res.body.id}/events`, { headers: bearer(alice) }));
    expect(events.items.map((e: { to: string }) => e.to)).toEqual(["pending", "uploaded", "verified", "ready"]);
  });

  it("waits for ready with Prefer: wait", async () => {
    const res = await upload(app, alice, fixture("formats/alpha-debian-emblem-256x256.png"), { prefer: "wait=10" });
    expect(res.status).toBe(201);
    expect(res.headers.get("preference-applied")).toBe("wait=10");
    expect(res.body.status).toBe("ready");
    expect(res.body.meta).toMatchObject({ width: 256, height: 256, hasAlpha: true });
  });

  it("accepts multipart/form-data with tags and public", async () => {
    const form = new FormData();
    form.set("tags", JSON.stringify({ album: "trip" }));
    form.set("public", "true");
    form.set("file", new Blob([fixture("formats/lossy-freshflower-800x602.webp")], { type: "image/webp" }), "flower.webp");
    const response = await fetch(`${app.url}/v1/assets`, { method: "POST", body: form, headers: bearer(alice) });
    const body = await json(response);
    expect(response.status).toBe(201);
    expect(body).toMatchObject({ filename: "flower.webp", contentType: "image/webp", public: true, tags: { album: "trip" } });
  });

  it("takes the filename from Content-Disposition and strips path tricks", async () => {
    const res = await upload(app, alice, Buffer.from("hello\n"), {
      "content-type": "text/plain", "content-disposition": 'attachment; filename="../../etc/passwd"',
    });
    expect(res.status).toBe(201);
    expect(res.body.filename).toBe("passwd");
  });

  it("verifies Content-Digest and keeps nothing on mismatch", async () => {
    const data = Buffer.from("digest me please");
    const good = await upload(app, alice, data, { "content-digest": `sha-256=:${Buffer.from(sha256(data), "hex").toString("base64")}:` });
    expect(good.status).toBe(201);

    const before = await stored();
    const other = Buffer.from("something else entirely");
    const bad = await upload(app, alice, other, { "content-digest": `sha-256=:${Buffer.from(sha256(data), "hex").toString("base64")}:` });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("checksum_mismatch");
    expect(await stored()).toEqual(before);
  });

  it("refuses a body over the limit while streaming (413) and keeps nothing", async () => {
    const before = await stored();
    const big = new Uint8Array(5 * 1024 * 1024);
    // Declared length: refused before reading.
    const declared = await upload(app, alice, big);
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe("payload_too_large");

    // Chunked, no length: refused once the count passes the limit.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${app.url}/v1/assets`, { method: "POST", headers: { ...bearer(alice), "transfer-encoding": "chunked" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      let sent = 0;
      const chunk = Buffer.alloc(256 * 1024, 7);
      const pump = () => {
        while (sent < 6 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    await new Promise((r) => setTimeout(r, 100));
    expect(await stored()).toEqual(before);
  });

  it("leaves no temp file and no row when the client disconnects mid-upload", async () => {
    const list = async () => (await json(await fetch(`${app.url}/v1/assets?limit=1000`, { headers: bearer(app.admin) }))).items.length;
    const before = { files: await stored(), rows: await list() };
    await new Promise<void>((resolve) => {
      const req = request(`${app.url}/v1/assets`, {
        method: "POST", headers: { ...bearer(alice), "content-type": "image/jpeg", "content-length": "3000000" },
      });
      req.on("error", () => resolve());
      req.write(fixture("photos/olympus-e-m1-kite-2560x1600.jpg").subarray(0, 300_000), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await stored()).toEqual(before.files);
    expect(await list()).toBe(before.rows);
  });

  it("deduplicates 20 concurrent identical uploads into one blob with refcount 20", async () => {
    const data = fixture("photos/grayscale-grey-2560x1600.jpg");
    const results = await Promise.all(Array.from({ length: 20 }, () => upload(app, alice, data, { "content-type": "image/jpeg" })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(20);
    expect(new Set(results.map((r) => r.body.sha256))).toEqual(new Set([sha256(data)]));

    const objects = (await stored()).filter((p) => p.startsWith("raw/") && p.endsWith(sha256(data)));
    expect(objects).toHaveLength(1);
    const blob = await app.runtime.repos.blobs.get(sha256(data));
    expect(blob?.refcount).toBe(20);

    // Trashed assets still hold the content; purging all but one keeps the bytes; purging
    // the last lets gc remove them.
    const all = [...ids];
    for (const id of all.slice(1)) {
      expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    }
    expect((await app.runtime.repos.blobs.get(sha256(data)))?.refcount).toBe(20);
    for (const id of all.slice(1)) {
      expect((await fetch(`${app.url}/v1/assets/${id}?purge=true`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    }
    expect((await app.runtime.repos.blobs.get(sha256(data)))?.refcount).toBe(1);
    const variant = await fetch(`${app.url}/a/${all[0]}?w=64`, { headers: bearer(alice) });
    expect(variant.status).toBe(200);
    expect((await fetch(`${app.url}/v1/assets/${all[0]}?purge=true`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    const gc = await fetch(`${app.url}/v1/admin/gc`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: "{}" });
    expect(gc.status).toBe(200);
    expect((await gc.json()).blobs).toMatchObject({ removed: 1, bytes: data.length });
    expect((await app.runtime.repos.blobs.get(sha256(data)))?.state).toBe("gone");
    expect((await stored()).filter((p) => p.endsWith(sha256(data)))).toHaveLength(0);
    expect(await app.runtime.repos.variants.listByBlob(sha256(data))).toHaveLength(0);
    expect((await fetch(`${app.url}/v1/assets/${all[0]}`, { headers: bearer(alice) })).status).toBe(404);
  });

  it("refuses anonymous and forged uploads with 401", async () => {
    const anonymous = await fetch(`${app.url}/v1/assets`, { method: "POST", body: "x" });
    expect(anonymous.status).toBe(401);
    expect((await json(anonymous)).error.code).toBe("unauthorized");
    const forged = await upload(app, alice.slice(0, -4) + "AAAA", Buffer.from("x"));
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe("invalid_token");
    const expired = await upload(app, await app.token("alice", { ttl: -10 }), Buffer.from("x"));
    expect(expired.status).toBe(401);
  });
});
