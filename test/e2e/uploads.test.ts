import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import type { S3BlobStore } from "../../src/storage/s3/s3-store.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * Direct-to-storage uploads through real HTTP: the session API, plain `fetch` PUTs to the
 * URLs it hands out (S3 presigned on the scale backend, this service's signed URLs on the
 * embedded one), completion, quotas and the expiry sweep.
 */

const JPEG = fixture("photos/canon-eos-400d-storm-1920x1280.jpg");
const MIB = 1024 * 1024;

async function openUpload(app: TestApp, token: string, body: Record<string, unknown>) {
  const response = await fetch(`${app.url}/v1/uploads`, {
    method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: response.status, body: await json(response) };
}

async function complete(app: TestApp, token: string, id: string, body: Record<string, unknown> = {}) {
  const response = await fetch(`${app.url}/v1/uploads/${id}/complete`, {
    method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: response.status, body: await json(response) };
}

async function put(url: string, body: Uint8Array, headers: Record<string, string>) {
  const response = await fetch(url, { method: "PUT", body, headers });
  await response.arrayBuffer();
  return response;
}

/**
 * The S3 store's direct-upload side (presigning, multipart listing), read from the hot store
 * under the failover/tier/read-tracking layers; undefined on the filesystem store.
 */
const directOf = (app: TestApp): S3BlobStore["direct"] | undefined => (app.runtime.storeCare.layers.hot as Partial<S3BlobStore>).direct;

const leftovers = async (app: TestApp) => (await app.storedObjects()).filter((key) => key.startsWith("uploads/") || key.includes(".staging/"));

describe(`direct-to-storage uploads (${BACKEND})`, () => {
  let app: TestApp;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_MULTIPART_THRESHOLD: "5MiB", ASSETD_PART_SIZE: "5MiB", ASSETD_SWEEP_INTERVAL: "0" });
    alice = await app.token("alice");
    bob = await app.token("bob");
  });
  afterAll(async () => app?.close());

  it("takes a single PUT to the URL it hands out and completes to a verified asset", async () => {
    const opened = await openUpload(app, alice, { filename: "photo.jpg", contentType: "image/jpeg", size: JPEG.length, tags: { album: "trip" } });
    expect(opened.status).toBe(201);
    expect(opened.body.asset.status).toBe("pending");
    const target = opened.body.upload;
    expect(target.kind).toBe("single");
    expect(target.method).toBe("PUT");
    expect(Date.parse(target.expiresAt)).toBeGreaterThan(Date.now());
    if (BACKEND === "scale") expect(target.url).not.toContain(new URL(app.url).host);

    const sent = await put(target.url, JPEG, target.headers);
    expect(sent.status).toBe(200);
    const done = await complete(app, alice, opened.body.asset.id);
    expect(done.status).toBe(200);
    expect(["verified", "ready"]).toContain(done.body.status);
    expect(done.body.sha256).toBe(sha256(JPEG));
    expect(done.body.contentType).toBe("image/jpeg");
    expect(done.body.tags).toEqual({ album: "trip" });

    const original = await fetch(`${app.url}/a/${done.body.id}`, { headers: bearer(alice) });
    expect(original.status).toBe(200);
    expect(sha256(new Uint8Array(await original.arrayBuffer()))).toBe(sha256(JPEG));

    // Complete is idempotent: the same manifest again.
    const again = await complete(app, alice, opened.body.asset.id);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(done.body.id);
    expect(again.body.sha256).toBe(done.body.sha256);
    expect(await leftovers(app)).toEqual([]);
  });

  it("refuses a signed PUT with another Content-Type and keeps nothing from it", async () => {
    const opened = await openUpload(app, alice, { filename: "photo.jpg", contentType: "image/jpeg", size: JPEG.length });
    const target = opened.body.upload;
    const wrong = await put(target.url, JPEG, { "content-type": "text/html" });
    expect(wrong.status).toBe(403);
    const done = await complete(app, alice, opened.body.asset.id);
    expect(done.status).toBe(409);
    expect(done.body.error.code).toBe("upload_incomplete");
    expect(await leftovers(app)).toEqual([]);

    // The session stays open: fresh URLs, the right type, and it completes.
    const state = await json(await fetch(`${app.url}/v1/uploads/${opened.body.asset.id}`, { headers: bearer(alice) }));
    expect(state.received).toEqual([]);
    expect((await put(state.upload.url, JPEG, state.upload.headers)).status).toBe(200);
    const finished = await complete(app, alice, opened.body.asset.id);
    expect(finished.status).toBe(200);
    expect(finished.body.sha256).toBe(sha256(JPEG));
  });

  it("fails the upload when the bytes do not match the declared sha256, keeping nothing", async () => {
    const before = await app.storedObjects();
    const other = randomBytes(4096);
    const opened = await openUpload(app, alice, { filename: "x.bin", contentType: "application/octet-stream", size: other.length, sha256: sha256(randomBytes(8)) });
    expect(opened.status).toBe(201);
    expect(opened.body.upload).not.toBeNull();
    expect((await put(opened.body.upload.url, other, opened.body.upload.headers)).status).toBe(200);
    const done = await complete(app, alice, opened.body.asset.id);
    expect(done.status).toBe(422);
    expect(done.body.error.code).toBe("checksum_mismatch");
    expect(await app.storedObjects()).toEqual(before);
    const manifest = await json(await fetch(`${app.url}/v1/assets/${opened.body.asset.id}`, { headers: bearer(alice) }));
    expect(manifest.status).toBe("failed");
    expect(manifest.failure.code).toBe("checksum_mismatch");
    // Asking again gives the same answer.
    expect((await complete(app, alice, opened.body.asset.id)).status).toBe(422);
  });

  it("holds a session to its declared size", async () => {
    const opened = await openUpload(app, alice, { filename: "short.bin", contentType: "application/octet-stream", size: 2000 });
    const { url, headers } = opened.body.upload;
    // More bytes than declared never land: the size is signed on S3, bounded by this service otherwise.
    expect((await put(url, randomBytes(5000), headers)).status).toBe(directOf(app) ? 403 : 413);
    expect(await leftovers(app)).toEqual([]);
    if (directOf(app)) {
      // Fewer bytes are refused by the store as well; the session stays open.
      expect((await put(url, randomBytes(1000), headers)).status).toBe(403);
      expect((await complete(app, alice, opened.body.asset.id)).body.error.code).toBe("upload_incomplete");
      return;
    }
    // This service takes a short body, and completion fails the upload without keeping it.
    expect((await put(url, randomBytes(1000), headers)).status).toBe(200);
    const done = await complete(app, alice, opened.body.asset.id);
    expect(done.status).toBe(422);
    expect(done.body.error.code).toBe("size_mismatch");
    expect(await leftovers(app)).toEqual([]);
  });

  it("uploads in parallel parts and joins them in order", async () => {
    const data = randomBytes(12 * MIB + 12345);
    const opened = await openUpload(app, alice, { filename: "big.bin", contentType: "application/octet-stream", size: data.length, sha256: sha256(data) });
    expect(opened.status).toBe(201);
    const plan = opened.body.upload;
    expect(plan.kind).toBe("multipart");
    expect(plan.partSize).toBe(5 * MIB);
    expect(plan.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2, 3]);

    const etags = await Promise.all(plan.parts.map(async (part: { partNumber: number; url: string }) => {
      const start = (part.partNumber - 1) * plan.partSize;
      const response = await put(part.url, data.subarray(start, start + plan.partSize), {});
      expect(response.status).toBe(200);
      return { partNumber: part.partNumber, etag: response.headers.get("etag")! };
    }));
    expect(etags.every((e) => e.etag)).toBe(true);

    const state = await json(await fetch(`${app.url}/v1/uploads/${opened.body.asset.id}`, { headers: bearer(alice) }));
    expect(state.received.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2, 3]);

    if (directOf(app)) {
      // The store checks the client's list against what it holds.
      const tampered = etags.map((e, i) => (i === 1 ? { ...e, etag: '"0123456789abcdef0123456789abcdef"' } : e));
      const refused = await complete(app, alice, opened.body.asset.id, { parts: tampered });
      expect(refused.status).toBe(400);
      expect(refused.body.error.parameter).toBe("parts");
    }
    const done = await complete(app, alice, opened.body.asset.id, { parts: etags });
    expect(done.status).toBe(200);
    expect(done.body.sha256).toBe(sha256(data));
    expect(done.body.size).toBe(data.length);
    const original = await fetch(`${app.url}/a/${done.body.id}`, { headers: bearer(alice) });
    expect(sha256(new Uint8Array(await original.arrayBuffer()))).toBe(sha256(data));
    expect(await leftovers(app)).toEqual([]);
  });

  it("says which part is missing instead of completing", async () => {
    const data = randomBytes(6 * MIB);
    const opened = await openUpload(app, alice, { filename: "gap.bin", contentType: "application/octet-stream", size: data.length });
    const [first] = opened.body.upload.parts;
    await put(first.url, data.subarray(0, 5 * MIB), {});
    const done = await complete(app, alice, opened.body.asset.id);
    expect(done.status).toBe(409);
    expect(done.body.error.code).toBe("upload_incomplete");
    expect(done.body.error.message).toMatch(/part 2/);
    expect((await fetch(`${app.url}/v1/uploads/${opened.body.asset.id}`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    expect(await leftovers(app)).toEqual([]);
    if (directOf(app)) {
      const pending = [];
      for await (const upload of directOf(app).listMultipart("uploads/")) pending.push(upload);
      expect(pending).toEqual([]);
    }
  });

  it("keeps other people's sessions invisible", async () => {
    const opened = await openUpload(app, alice, { filename: "mine.jpg", contentType: "image/jpeg", size: JPEG.length });
    const id = opened.body.asset.id;
    expect((await fetch(`${app.url}/v1/uploads/${id}`, { headers: bearer(bob) })).status).toBe(404);
    expect((await complete(app, bob, id)).status).toBe(404);
    expect((await fetch(`${app.url}/v1/uploads/${id}`, { method: "DELETE", headers: bearer(bob) })).status).toBe(404);
    expect((await fetch(`${app.url}/v1/uploads`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(401);
    // Deleting the pending asset aborts its session.
    expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    expect((await fetch(`${app.url}/v1/uploads/${id}`, { headers: bearer(alice) })).status).toBe(404);
  });

  it("lets browsers call it: preflights answered without a token, ETag readable", async () => {
    const preflight = await fetch(`${app.url}/v1/uploads`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/i);
    const opened = await openUpload(app, alice, { filename: "cors.jpg", contentType: "image/jpeg", size: JPEG.length });
    const sent = await fetch(opened.body.upload.url, { method: "PUT", body: JPEG, headers: { ...opened.body.upload.headers, origin: "https://app.example" } });
    if (!directOf(app)) {
      // This service's own upload URL (S3 buckets carry their own CORS rules).
      expect(sent.headers.get("access-control-allow-origin")).toBe("*");
      expect(sent.headers.get("access-control-expose-headers")).toMatch(/ETag/);
    }
    expect((await complete(app, alice, opened.body.asset.id)).status).toBe(200);
  });

  it("checks size and type before any byte moves", async () => {
    const tooBig = await openUpload(app, alice, { filename: "huge.bin", contentType: "application/octet-stream", size: 6 * 1024 ** 4 });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("payload_too_large");
    const html = await openUpload(app, alice, { filename: "page.html", contentType: "text/html", size: 100 });
    expect(html.status).toBe(415);
    expect(html.body.error.code).toBe("type_not_allowed");
    const badSha = await openUpload(app, alice, { filename: "a.jpg", contentType: "image/jpeg", size: 100, sha256: "xyz" });
    expect(badSha.status).toBe(400);
  });

  it("skips the transfer only for the owner's own content, and answers others as if nothing were stored", async () => {
    const data = randomBytes(3000);
    const stored = await upload(app, alice, data, { "content-type": "application/octet-stream" }, "?filename=held.bin");
    expect(stored.status).toBe(201);

    const mine = await openUpload(app, alice, { filename: "again.bin", contentType: "application/octet-stream", size: data.length, sha256: sha256(data) });
    expect(mine.status).toBe(201);
    expect(mine.body.upload).toBeNull();
    expect(mine.body.asset.status).toBe("verified");
    expect(mine.body.asset.sha256).toBe(sha256(data));
    expect(mine.body.asset.id).not.toBe(stored.body.id);

    // Bob declares content Alice holds, and content nobody holds: the same kind of answer.
    const held = await openUpload(app, bob, { filename: "guess.bin", contentType: "application/octet-stream", size: data.length, sha256: sha256(data) });
    const unheld = await openUpload(app, bob, { filename: "guess.bin", contentType: "application/octet-stream", size: data.length, sha256: sha256(randomBytes(3000)) });
    for (const answer of [held, unheld]) {
      expect(answer.status).toBe(201);
      expect(answer.body.asset.status).toBe("pending");
      expect(answer.body.asset.sha256 ?? null).toBeNull();
      expect(answer.body.upload.kind).toBe("single");
    }
    expect(Object.keys(held.body).sort()).toEqual(Object.keys(unheld.body).sort());
    expect(Object.keys(held.body.asset).sort()).toEqual(Object.keys(unheld.body.asset).sort());
    expect(Object.keys(held.body.upload).sort()).toEqual(Object.keys(unheld.body.upload).sort());
    // And Bob must send every byte before he gets an asset.
    expect((await complete(app, bob, held.body.asset.id)).status).toBe(409);
    expect((await put(held.body.upload.url, data, held.body.upload.headers)).status).toBe(200);
    const done = await complete(app, bob, held.body.asset.id);
    expect(done.status).toBe(200);
    expect(done.body.sha256).toBe(sha256(data));
  });
});

describe(`upload URLs and sessions expire (${BACKEND})`, () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_UPLOAD_URL_TTL: "1", ASSETD_SWEEP_INTERVAL: "0" });
    alice = await app.token("alice");
  });
  afterAll(async () => app?.close());

  it("refuses an expired upload URL", async () => {
    const opened = await openUpload(app, alice, { filename: "late.jpg", contentType: "image/jpeg", size: JPEG.length });
    await new Promise((r) => setTimeout(r, 2100));
    const late = await put(opened.body.upload.url, JPEG, opened.body.upload.headers);
    expect(late.status).toBe(403);
    expect(await leftovers(app)).toEqual([]);
  });

});

describe(`expired upload sessions are swept (${BACKEND})`, () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    // Sessions live 3 s; their URLs as long (S3 signatures carry whole seconds, so a
    // shorter URL lifetime would make the PUT below race its own expiry).
    app = await startApp({
      ASSETD_UPLOAD_SESSION_TTL: "3", ASSETD_SWEEP_INTERVAL: "0", ASSETD_MULTIPART_THRESHOLD: "5MiB", ASSETD_PART_SIZE: "5MiB",
    });
    alice = await app.token("alice");
  });
  afterAll(async () => app?.close());

  it("sweeps an abandoned multipart upload: staged parts, the store's upload and the asset", async () => {
    const data = randomBytes(5 * MIB + 10);
    const opened = await openUpload(app, alice, { filename: "abandoned.bin", contentType: "application/octet-stream", size: data.length });
    const id = opened.body.asset.id;
    const [first] = opened.body.upload.parts;
    expect((await put(first.url, data.subarray(0, 5 * MIB), {})).status).toBe(200);
    if (directOf(app)) {
      const pending = [];
      for await (const upload of directOf(app).listMultipart("uploads/")) pending.push(upload);
      expect(pending.length).toBe(1);
    } else {
      expect((await leftovers(app)).length).toBe(1);
    }
    await new Promise((r) => setTimeout(r, 3100));
    const swept = await json(await fetch(`${app.url}/v1/admin/sweep`, { method: "POST", headers: bearer(app.admin) }));
    expect(swept.sessions).toBeGreaterThanOrEqual(1);

    expect(await leftovers(app)).toEqual([]);
    if (directOf(app)) {
      const pending = [];
      for await (const upload of directOf(app).listMultipart("uploads/")) pending.push(upload);
      expect(pending).toEqual([]);
    }
    expect((await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(alice) })).status).toBe(404);
    const asAdmin = await json(await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(app.admin) }));
    expect(asAdmin.status).toBe("deleted");
    const events = await json(await fetch(`${app.url}/v1/assets/${id}/events`, { headers: bearer(app.admin) }));
    expect(events.items.at(-1).reason).toMatch(/expired/);
    const quota = await json(await fetch(`${app.url}/v1/admin/quotas/alice`, { headers: bearer(app.admin) }));
    expect(quota.reservedBytes).toBe(0);
  });
});

describe(`quotas (${BACKEND})`, () => {
  let app: TestApp;
  const SIZE = 1000;

  beforeAll(async () => {
    app = await startApp({ ASSETD_QUOTA_DEFAULT_BYTES: String(10 * SIZE), ASSETD_SWEEP_INTERVAL: "0" });
  });
  afterAll(async () => app?.close());

  it("lets exactly 10 of 20 parallel sessions through a quota that fits 10", async () => {
    const carol = await app.token("carol");
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      openUpload(app, carol, { filename: `f${i}.bin`, contentType: "application/octet-stream", size: SIZE })));
    const ok = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 403);
    expect(ok.length).toBe(10);
    expect(refused.length).toBe(10);
    for (const r of refused) expect(r.body.error.code).toBe("quota_exceeded");

    const stats = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(carol) }));
    expect(stats.quota).toMatchObject({ maxBytes: 10 * SIZE, usedBytes: 0, reservedBytes: 10 * SIZE, availableBytes: 0 });

    // Completing settles reservations into used bytes; aborting gives them back.
    const [first, second] = ok;
    const bytes = randomBytes(SIZE);
    await put(first!.body.upload.url, bytes, first!.body.upload.headers);
    expect((await complete(app, carol, first!.body.asset.id)).status).toBe(200);
    expect((await fetch(`${app.url}/v1/uploads/${second!.body.asset.id}`, { method: "DELETE", headers: bearer(carol) })).status).toBe(204);
    const list = await json(await fetch(`${app.url}/v1/assets`, { headers: bearer(carol) }));
    expect(list.quota).toMatchObject({ usedBytes: SIZE, reservedBytes: 8 * SIZE, availableBytes: SIZE });

    // A direct upload is held to the same limit, and deleting gives bytes back.
    const tooMuch = await upload(app, carol, randomBytes(2 * SIZE), { "content-type": "application/octet-stream" });
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.body.error.code).toBe("quota_exceeded");
    expect((await fetch(`${app.url}/v1/assets/${first!.body.asset.id}`, { method: "DELETE", headers: bearer(carol) })).status).toBe(204);
    const after = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(carol) }));
    expect(after.quota).toMatchObject({ usedBytes: 0, reservedBytes: 8 * SIZE });
  });

  it("lets an admin set an owner's own limit and return them to the default", async () => {
    const dave = await app.token("dave");
    const setLimit = async (maxBytes: number | null) => json(await fetch(`${app.url}/v1/admin/quotas/dave`, {
      method: "PUT", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: JSON.stringify({ maxBytes }),
    }));
    expect(await setLimit(100 * SIZE)).toMatchObject({ owner: "dave", maxBytes: 100 * SIZE, source: "owner" });
    const big = await upload(app, dave, randomBytes(20 * SIZE), { "content-type": "application/octet-stream" });
    expect(big.status).toBe(201);
    expect(await setLimit(null)).toMatchObject({ maxBytes: 10 * SIZE, source: "default", usedBytes: 20 * SIZE });
    const refused = await upload(app, dave, randomBytes(SIZE), { "content-type": "application/octet-stream" });
    expect(refused.status).toBe(403);
    expect((await fetch(`${app.url}/v1/admin/quotas/dave`, { headers: bearer(dave) })).status).toBe(403);
    const all = await json(await fetch(`${app.url}/v1/admin/quotas`, { headers: bearer(app.admin) }));
    expect(all.items.map((q: { owner: string }) => q.owner)).toContain("dave");
  });
});
