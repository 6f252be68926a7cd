import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, metric, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** Mean absolute difference per channel (0..255) between two images at the same size. */
async function difference(a: Buffer, b: Buffer, width = 160, height = 120): Promise<number> {
  const raw = (img: Buffer) => sharp(img).resize(width, height, { fit: "fill" }).removeAlpha().raw().toBuffer();
  const [x, y] = await Promise.all([raw(a), raw(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}

describe("delivery", () => {
  let app: TestApp;
  let owner: string;
  let photoId: string;
  const photo = fixture("photos/olympus-e-m1-kite-2560x1600.jpg");

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("olga");
    const res = await upload(app, owner, photo, { "content-type": "image/jpeg", prefer: "wait=10" });
    photoId = res.body.id;
  });
  afterAll(() => app.close());

  it("serves the original with validators, caching and nosniff headers", async () => {
    const res = await fetch(`${app.url}/a/${photoId}`, { headers: bearer(owner) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("content-length")).toBe(String(photo.length));
    expect(res.headers.get("etag")).toBe(`"${sha256(photo)}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("cache-control")).toBe("private, max-age=3600");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    await res.arrayBuffer();

    const head = await fetch(`${app.url}/a/${photoId}`, { method: "HEAD", headers: bearer(owner) });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(photo.length));
    expect(head.headers.get("etag")).toBe(`"${sha256(photo)}"`);
  });

  it("answers Range with 206 and exact bytes, and 416 outside", async () => {
    const partial = await fetch(`${app.url}/a/${photoId}`, { headers: { ...bearer(owner), range: "bytes=100-199" } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 100-199/${photo.length}`);
    expect(Buffer.from(await partial.arrayBuffer())).toEqual(photo.subarray(100, 200));

    const suffix = await fetch(`${app.url}/a/${photoId}`, { headers: { ...bearer(owner), range: "bytes=-10" } });
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(photo.subarray(photo.length - 10));

    const outside = await fetch(`${app.url}/a/${photoId}`, { headers: { ...bearer(owner), range: `bytes=${photo.length}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get("content-range")).toBe(`bytes */${photo.length}`);
    await outside.arrayBuffer();
  });

  it("answers If-None-Match with 304 repeating ETag and Cache-Control", async () => {
    const res = await fetch(`${app.url}/a/${photoId}`, { headers: { ...bearer(owner), "if-none-match": `"${sha256(photo)}"` } });
    expect(res.status).toBe(304);
    expect(res.headers.get("etag")).toBe(`"${sha256(photo)}"`);
    expect(res.headers.get("cache-control")).toBe("private, max-age=3600");
  });

  it("renders w=300&fmt=webp: a 300-px-wide WebP, then serves it from cache", async () => {
    // Cache detail (X-Cache, Server-Timing) is shown to admins only.
    const first = await fetch(`${app.url}/a/${photoId}?w=300&fmt=webp`, { headers: bearer(app.admin) });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/webp");
    expect(first.headers.get("x-cache")).toBe("MISS");
    expect(first.headers.get("server-timing")).toMatch(/^render;dur=/);
    const bytes = Buffer.from(await first.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: "webp", width: 300, height: 188 });
    expect(meta.exif).toBeUndefined();

    const second = await fetch(`${app.url}/a/${photoId}?fmt=webp&w=300`, { headers: bearer(app.admin) });
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(Buffer.from(await second.arrayBuffer())).toEqual(bytes);

    const ranged = await fetch(`${app.url}/a/${photoId}?fmt=webp&w=300`, { headers: { ...bearer(owner), range: "bytes=0-9" } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(bytes.subarray(0, 10));

    const notModified = await fetch(`${app.url}/a/${photoId}?w=300&fmt=webp`, {
      headers: { ...bearer(owner), "if-none-match": first.headers.get("etag")! },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("cache-control")).toBe("private, max-age=3600");
  });

  it.each([
    ["image/avif,image/webp,image/apng,*/*;q=0.8", "image/avif"],
    ["image/webp,*/*", "image/webp"],
    ["*/*", "image/jpeg"],
    ["image/*", "image/jpeg"],
  ])("fmt=auto with Accept %s -> %s and Vary: Accept", async (accept, type) => {
    const res = await fetch(`${app.url}/a/${photoId}?w=120&fmt=auto`, { headers: { ...bearer(owner), accept } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(type);
    expect(res.headers.get("vary")).toBe("Accept");
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(120);
  });

  it("keeps PNG for alpha sources under fmt=auto without modern formats; presets work", async () => {
    const png = await upload(app, owner, fixture("formats/alpha-debian-emblem-256x256.png"), { "content-type": "image/png" });
    const res = await fetch(`${app.url}/a/${png.body.id}?preset=thumb`, { headers: { ...bearer(owner), accept: "*/*" } });
    expect(res.headers.get("content-type")).toBe("image/png");
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ width: 150, height: 150, hasAlpha: true });
  });

  it("never enlarges unless asked", async () => {
    const small = await upload(app, owner, fixture("orientation/orientation-1.jpg"), { "content-type": "image/jpeg" });
    const res = await fetch(`${app.url}/a/${small.body.id}?w=2000`, { headers: bearer(owner) });
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(640);
    const enlarged = await fetch(`${app.url}/a/${small.body.id}?w=1000&enlarge=1`, { headers: bearer(owner) });
    expect((await sharp(Buffer.from(await enlarged.arrayBuffer())).metadata()).width).toBe(1000);
  });

  it("turns every EXIF orientation into the same upright image", async () => {
    const expected = fixture("orientation/orientation-expected.jpg");
    for (let n = 1; n <= 8; n++) {
      const res = await upload(app, owner, fixture(`orientation/orientation-${n}.jpg`), { "content-type": "image/jpeg" });
      const variant = await fetch(`${app.url}/a/${res.body.id}?w=640&fmt=png`, { headers: bearer(owner) });
      const bytes = Buffer.from(await variant.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect({ n, width: meta.width, height: meta.height, orientation: meta.orientation }).toEqual({ n, width: 640, height: 480, orientation: undefined });
      expect(await difference(bytes, expected), `orientation ${n}`).toBeLessThan(3);
    }
  });

  it("collapses 50 concurrent identical misses into one render", async () => {
    const rendersBefore = await metric(app, "assetd_variant_renders_total");
    const collapsedBefore = await metric(app, "assetd_variant_collapsed_total");
    const hitsBefore = await metric(app, "assetd_variant_requests_total", { result: "hit" });
    const responses = await Promise.all(Array.from({ length: 50 }, () =>
      fetch(`${app.url}/a/${photoId}?w=777&fmt=jpeg`, { headers: bearer(owner) })));
    const bodies = await Promise.all(responses.map(async (r) => sha256(new Uint8Array(await r.arrayBuffer()))));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(new Set(bodies).size).toBe(1);
    expect(await metric(app, "assetd_variant_renders_total") - rendersBefore).toBe(1);
    // Every other request either waited for that render or, arriving after it finished, hit the cache.
    const collapsed = await metric(app, "assetd_variant_collapsed_total") - collapsedBefore;
    const hits = await metric(app, "assetd_variant_requests_total", { result: "hit" }) - hitsBefore;
    expect(collapsed + hits).toBe(49);
    expect(collapsed).toBeGreaterThan(0);
  });

  it("converts wide-gamut and CMYK sources to sRGB instead of stripping their profiles", async () => {
    for (const name of ["photos/cmyk-fig-1200x812.jpg", "photos/adobergb-olympus-path-1600x1000.jpg"]) {
      const source = fixture(name);
      const res = await upload(app, owner, source, { "content-type": "image/jpeg" });
      const variant = Buffer.from(await (await fetch(`${app.url}/a/${res.body.id}?w=400&fmt=png`, { headers: bearer(owner) })).arrayBuffer());
      const reference = await sharp(source).resize(400).toColourspace("srgb").png().toBuffer();
      expect(await difference(variant, reference), name).toBeLessThan(6);
    }
  });

  it("removes GPS and EXIF from variants of a geotagged photo", async () => {
    const res = await upload(app, owner, fixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg"), { "content-type": "image/jpeg" });
    const variant = Buffer.from(await (await fetch(`${app.url}/a/${res.body.id}?w=500`, { headers: bearer(owner) })).arrayBuffer());
    const meta = await sharp(variant).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
  });

  it("keeps an animated GIF animated when converted to WebP", async () => {
    const res = await upload(app, owner, fixture("formats/animated-greenmeadow-6-frames-320x256.gif"), { "content-type": "image/gif" });
    const variant = Buffer.from(await (await fetch(`${app.url}/a/${res.body.id}?w=160&fmt=webp`, { headers: bearer(owner) })).arrayBuffer());
    const meta = await sharp(variant, { animated: true }).metadata();
    expect(meta.pages).toBe(6);
    expect(meta.width).toBe(160);
  });

  it("offers downloads as attachments", async () => {
    const res = await fetch(`${app.url}/a/${photoId}?download=1`, { headers: bearer(owner) });
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="/);
    await res.arrayBuffer();
    const variant = await fetch(`${app.url}/a/${photoId}?w=50&fmt=webp&download=1`, { headers: bearer(owner) });
    expect(variant.headers.get("content-disposition")).toMatch(/\.webp"/);
    await variant.arrayBuffer();
  });

  it("answers 503 with Retry-After when the render queue is full", async () => {
    const tight = await (await import("../helpers/app.js")).startApp({ ASSETD_MAX_TRANSFORMS: "1", ASSETD_TRANSFORM_QUEUE: "0" });
    try {
      const t = await tight.token("t");
      const res = await upload(tight, t, fixture("photos/progressive-aitzgorri-3088x2056.jpg"), { "content-type": "image/jpeg" });
      const responses = await Promise.all([1, 2, 3, 4].map((w) =>
        fetch(`${tight.url}/a/${res.body.id}?w=${1000 + w}&fmt=avif`, { headers: bearer(t) })));
      const statuses = responses.map((r) => r.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      const rejected = responses.find((r) => r.status === 503)!;
      expect(rejected.headers.get("retry-after")).toBe("1");
      expect((await json(rejected)).error.code).toBe("overloaded");
    } finally {
      await tight.close();
    }
  });
});
