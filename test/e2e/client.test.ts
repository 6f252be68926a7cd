import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetdError, createClient, type AssetdClient, type FetchLike, type Manifest, type Progress } from "../../src/client/index.js";
import { fileInput } from "../../src/client/node.js";
import { bearer, sha256, startApp, type TestApp } from "../helpers/app.js";
import { fixture, fixturePath } from "../helpers/fixtures.js";

const MIB = 1024 * 1024;
const PHOTO = "photos/canon-eos-400d-storm-1920x1280.jpg";

/** Records every request the client makes, so tests can tell which path it took. */
function recordingFetch(log: Array<{ method: string; url: string; status: number }>, before?: (method: string, url: string) => Promise<void>): FetchLike {
  return async (url, init) => {
    const method = init?.method ?? "GET";
    await before?.(method, url);
    const response = await fetch(url, init);
    log.push({ method, url, status: response.status });
    return response;
  };
}

async function original(app: TestApp, token: string, id: string): Promise<Buffer> {
  const response = await fetch(`${app.url}/a/${id}`, { headers: bearer(token) });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe("assetd/client", () => {
  let app: TestApp;
  let alice: string;
  let client: AssetdClient;

  beforeAll(async () => {
    app = await startApp({ ASSETD_MULTIPART_THRESHOLD: "5MiB", ASSETD_PART_SIZE: "5MiB" });
    alice = await app.token("alice");
    client = createClient({ baseUrl: app.url, token: alice });
  });
  afterAll(() => app.close());

  describe("direct upload", () => {
    it("uploads a JPEG, reports progress up to the total, and the bytes round-trip", async () => {
      const photo = fixture(PHOTO);
      const progress: Progress[] = [];
      const manifest = await client.upload(new Blob([photo], { type: "image/jpeg" }), {
        filename: "storm.jpg", tags: { album: "storms" }, onProgress: (p) => progress.push(p), wait: 10,
      });
      expect(manifest).toMatchObject({
        owner: "alice", filename: "storm.jpg", contentType: "image/jpeg", size: photo.length, sha256: sha256(photo),
        tags: { album: "storms" }, status: "ready",
      });
      expect(progress.length).toBeGreaterThan(1);
      expect(progress.at(-1)).toEqual({ loaded: photo.length, total: photo.length });
      expect(progress.every((p, i) => i === 0 || p.loaded >= progress[i - 1]!.loaded)).toBe(true);
      expect(sha256(await original(app, alice, manifest.id))).toBe(sha256(photo));
    });

    it("sends a computed Content-Digest, and a wrong one is refused with 422", async () => {
      const photo = fixture("formats/lossy-freshflower-800x602.webp");
      const ok = await client.upload(photo, { sha256: true, method: "direct" });
      expect(ok.sha256).toBe(sha256(photo));
      const wrong = await client.upload(photo, { sha256: "0".repeat(64), method: "direct" }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(AssetdError);
      expect(wrong).toMatchObject({ status: 422, code: "checksum_mismatch" });
    });

    it("throws AssetdError with the server's code, message and details on a 415", async () => {
      const html = fixture("hostile/really-html.png");
      // No name and no type: nothing declared, so the sniffed text/html meets the type policy.
      const undeclared = await client.upload(html).catch((e: unknown) => e);
      expect(undeclared).toBeInstanceOf(AssetdError);
      expect(undeclared).toMatchObject({ name: "AssetdError", status: 415, code: "type_not_allowed" });
      expect((undeclared as AssetdError).message).toMatch(/\w/);

      const declared = await client.upload(new Blob([html], { type: "image/png" })).catch((e: unknown) => e);
      expect(declared).toMatchObject({ status: 415, code: "type_mismatch", details: { sniffed: "text/html" } });
    });

    it("a 413 answered before the body is read still surfaces as AssetdError while progress streams", async () => {
      const small = await startApp({ ASSETD_MAX_UPLOAD_BYTES: "1MiB" });
      try {
        const limited = createClient({ baseUrl: small.url, token: await small.token("bob") });
        const error = await limited.upload(randomBytes(24 * MIB), { method: "direct", onProgress: () => {} }).catch((e: unknown) => e);
        expect(error).toMatchObject({ status: 413, code: "payload_too_large" });
      } finally {
        await small.close();
      }
    });

    it("uploads a file from disk by path with the Node helper", async () => {
      const path = fixturePath("photos/grayscale-grey-2560x1600.jpg");
      const manifest = await client.upload(await fileInput(path));
      expect(manifest).toMatchObject({ filename: "grayscale-grey-2560x1600.jpg", contentType: "image/jpeg", sha256: sha256(fixture("photos/grayscale-grey-2560x1600.jpg")) });
    });

    it("url() builds a variant URL the server renders: a 300 px wide WebP", async () => {
      const manifest = await client.upload(fixture(PHOTO), { contentType: "image/jpeg" });
      const url = client.url(manifest.id, { w: 300, fmt: "webp" });
      expect(url).toBe(`${app.url}/a/${manifest.id}?w=300&fmt=webp`);
      const response = await fetch(url, { headers: bearer(alice) });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/webp");
      const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect(meta).toMatchObject({ format: "webp", width: 300 });
    });
  });

  describe("API calls", () => {
    it("gets, lists, patches, reads events of and deletes assets", async () => {
      const tag = `run-${randomBytes(4).toString("hex")}`;
      const created = await client.upload(fixture(PHOTO), { filename: "a.jpg", tags: { run: tag }, wait: 10 });
      expect((await client.assets.get(created.id)).id).toBe(created.id);

      const page = await client.assets.list({ tags: { run: tag }, type: "image", limit: 10 });
      expect(page.items.map((m) => m.id)).toEqual([created.id]);
      expect(page.next).toBeNull();
      const all: Manifest[] = [];
      for await (const m of client.assets.iterate({ tags: [`run:${tag}`], limit: 1 })) all.push(m);
      expect(all.map((m) => m.id)).toEqual([created.id]);

      const patched = await client.assets.patch(created.id, { filename: "b.jpg", tags: { run: null, kept: "yes" } });
      expect(patched).toMatchObject({ filename: "b.jpg", tags: { kept: "yes" } });

      const events = await client.assets.events(created.id);
      expect(events.map((e) => e.to)).toEqual(["pending", "uploaded", "verified", "ready"]);
      const similar = await client.assets.similar(created.id, { maxDistance: 10 });
      expect(Array.isArray(similar.items)).toBe(true);

      await client.assets.delete(created.id);
      const gone = await client.assets.get(created.id).catch((e: unknown) => e);
      expect(gone).toMatchObject({ status: 404, code: "not_found" });
    });

    it("reads stats, and admin calls need an admin token", async () => {
      const stats = await client.stats();
      expect(stats.scope).toBe("owner");
      expect(stats.logicalBytes).toBeGreaterThan(0);
      await expect(client.admin.jobs.list()).rejects.toMatchObject({ status: 403, code: "forbidden" });
      const admin = createClient({ baseUrl: app.url, token: () => app.admin });
      expect(Array.isArray(await admin.admin.jobs.list({ state: "dead" }))).toBe(true);

      expect(stats.quota).toMatchObject({ owner: "alice", usedBytes: expect.any(Number) });
      const set = await admin.admin.quotas.set("alice", 10 * 1024 ** 3);
      expect(set).toMatchObject({ owner: "alice", maxBytes: 10 * 1024 ** 3, source: "owner" });
      expect(await admin.admin.quotas.get("alice")).toEqual(set);
      expect((await admin.admin.quotas.list()).items.map((q) => q.owner)).toContain("alice");
      expect(await admin.admin.quotas.set("alice", null)).toMatchObject({ owner: "alice", source: expect.stringMatching(/default|unlimited/) });
      expect(await admin.admin.sweep()).toMatchObject({ sessions: expect.any(Number), multipart: expect.any(Number) });
    });
  });

  describe("upload sessions", () => {
    it("reports the server's upload settings", async () => {
      const caps = await client.capabilities();
      expect(caps.uploads).toMatchObject({ multipartThreshold: 5 * MIB, partSize: 5 * MIB });
      expect(caps.tus.endpoint).toBe("/v1/tus");
    });

    it("presigned single PUT: the bytes round-trip", async () => {
      const photo = fixture(PHOTO);
      const log: Array<{ method: string; url: string; status: number }> = [];
      const spied = createClient({ baseUrl: app.url, token: alice, fetch: recordingFetch(log) });
      const progress: Progress[] = [];
      const manifest = await spied.upload(new Blob([photo], { type: "image/jpeg" }), {
        method: "presigned", filename: "storm.jpg", onProgress: (p) => progress.push(p),
      });
      expect(manifest).toMatchObject({ filename: "storm.jpg", size: photo.length, sha256: sha256(photo), contentType: "image/jpeg" });
      expect(["verified", "ready"]).toContain(manifest.status);
      expect(progress.at(-1)).toEqual({ loaded: photo.length, total: photo.length });
      expect(log.filter((r) => r.method === "PUT")).toHaveLength(1);
      expect(log.some((r) => r.method === "POST" && r.url.endsWith(`/v1/uploads/${manifest.id}/complete`))).toBe(true);
      expect(sha256(await original(app, alice, manifest.id))).toBe(sha256(photo));
    });

    it("skips the transfer when the owner already holds the bytes (sha256: true)", async () => {
      const photo = fixture("photos/cmyk-fig-1200x812.jpg");
      const first = await client.upload(photo, { method: "presigned", sha256: true });
      const log: Array<{ method: string; url: string; status: number }> = [];
      const spied = createClient({ baseUrl: app.url, token: alice, fetch: recordingFetch(log) });
      const progress: Progress[] = [];
      const second = await spied.upload(photo, { method: "presigned", sha256: true, onProgress: (p) => progress.push(p) });
      expect(second.id).not.toBe(first.id);
      expect(second.sha256).toBe(sha256(photo));
      expect(log.filter((r) => r.method === "PUT")).toHaveLength(0);
      expect(progress.at(-1)).toEqual({ loaded: photo.length, total: photo.length });
    });

    it("multipart: ~20 MiB of random bytes in parallel parts, sha256 intact", async () => {
      const data = randomBytes(20 * MIB + 12_345);
      const log: Array<{ method: string; url: string; status: number }> = [];
      const spied = createClient({ baseUrl: app.url, token: alice, fetch: recordingFetch(log) });
      const progress: Progress[] = [];
      const manifest = await spied.upload(data, { method: "multipart", filename: "random.bin", concurrency: 3, onProgress: (p) => progress.push(p) });
      expect(manifest).toMatchObject({ size: data.length, sha256: sha256(data) });
      expect(log.filter((r) => r.method === "PUT")).toHaveLength(5);
      expect(progress.at(-1)).toEqual({ loaded: data.length, total: data.length });
      expect(sha256(await original(app, alice, manifest.id))).toBe(sha256(data));
    });

    it("auto picks a session above 8 MiB", async () => {
      const data = randomBytes(9 * MIB);
      const log: Array<{ method: string; url: string; status: number }> = [];
      const spied = createClient({ baseUrl: app.url, token: alice, fetch: recordingFetch(log) });
      const manifest = await spied.upload(data);
      expect(manifest.sha256).toBe(sha256(data));
      expect(log.some((r) => r.method === "POST" && r.url.endsWith("/v1/uploads"))).toBe(true);
      expect(log.some((r) => r.method === "POST" && r.url.includes("/v1/assets"))).toBe(false);
    });

    it("an abort mid-multipart rejects with AbortError and leaves no asset and no session", async () => {
      const before = await app.storedObjects();
      const data = randomBytes(20 * MIB);
      let assetId: string | undefined;
      const spying: FetchLike = async (url, init) => {
        const response = await fetch(url, init);
        if (init?.method === "POST" && url.endsWith("/v1/uploads") && response.ok) {
          assetId = ((await response.clone().json()) as { asset: Manifest }).asset.id;
        }
        return response;
      };
      const spied = createClient({ baseUrl: app.url, token: alice, fetch: spying });
      const controller = new AbortController();
      const result = await spied.upload(data, {
        method: "multipart", concurrency: 1, signal: controller.signal,
        onProgress: ({ loaded }) => {
          if (loaded > 7 * MIB) controller.abort();
        },
      }).catch((e: unknown) => e);
      expect(result).toMatchObject({ name: "AbortError" });
      expect(assetId).toBeDefined();

      const asset = await fetch(`${app.url}/v1/assets/${assetId}`, { headers: bearer(alice) });
      expect(asset.status).toBe(404);
      const session = await fetch(`${app.url}/v1/uploads/${assetId}`, { headers: bearer(alice) });
      expect([404, 409]).toContain(session.status);
      expect(await app.storedObjects()).toEqual(before);
    });

    it("tus: a resumable upload ends in the asset's manifest", async () => {
      const photo = fixture("photos/olympus-e-m1-kite-2560x1600.jpg");
      const progress: Progress[] = [];
      const manifest = await client.upload(await fileInput(fixturePath("photos/olympus-e-m1-kite-2560x1600.jpg")), {
        method: "tus", chunkSize: 200 * 1024, tags: { via: "tus" }, onProgress: (p) => progress.push(p), wait: 10,
      });
      expect(manifest).toMatchObject({
        filename: "olympus-e-m1-kite-2560x1600.jpg", size: photo.length, sha256: sha256(photo), tags: { via: "tus" }, status: "ready",
      });
      expect(progress.at(-1)).toEqual({ loaded: photo.length, total: photo.length });
      expect(sha256(await original(app, alice, manifest.id))).toBe(sha256(photo));
    });

    it("tus: an abort terminates the upload, deletes the asset and releases the reservation", async () => {
      const data = randomBytes(3 * MIB);
      const reservedBefore = (await client.stats()).quota?.reservedBytes;
      const controller = new AbortController();
      const result = await client.upload(data, {
        method: "tus", filename: "tus-abort.bin", chunkSize: 256 * 1024, signal: controller.signal,
        onProgress: ({ loaded }) => {
          if (loaded > MIB) controller.abort();
        },
      }).catch((e: unknown) => e);
      expect(result).toMatchObject({ name: "AbortError" });

      const admin = createClient({ baseUrl: app.url, token: app.admin });
      const deleted = await admin.assets.list({ q: "tus-abort", owner: "alice", status: "deleted" });
      expect(deleted.items).toHaveLength(1);
      expect((await admin.assets.list({ q: "tus-abort", owner: "alice", status: "pending" })).items).toHaveLength(0);
      expect((await client.stats()).quota?.reservedBytes).toBe(reservedBefore);
    });
  });
});

describe("assetd/client with short-lived upload URLs", () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_MULTIPART_THRESHOLD: "5MiB", ASSETD_PART_SIZE: "5MiB", ASSETD_UPLOAD_URL_TTL: "1" });
    alice = await app.token("alice");
  });
  afterAll(() => app.close());

  it("refreshes an expired part URL through GET /v1/uploads/:id and carries on", async () => {
    const data = randomBytes(11 * MIB);
    const log: Array<{ method: string; url: string; status: number }> = [];
    let delayed = false;
    // Holds the first part PUT until its URL has expired: the store or service answers 403.
    const client = createClient({
      baseUrl: app.url, token: alice,
      fetch: recordingFetch(log, async (method) => {
        if (method === "PUT" && !delayed) {
          delayed = true;
          await new Promise((resolve) => setTimeout(resolve, 2500));
        }
      }),
    });
    const manifest = await client.upload(data, { method: "multipart", concurrency: 1 });
    expect(manifest.sha256).toBe(sha256(data));
    expect(log.some((r) => r.method === "PUT" && r.status === 403)).toBe(true);
    expect(log.some((r) => r.method === "GET" && r.url.endsWith(`/v1/uploads/${manifest.id}`))).toBe(true);
  });
});
