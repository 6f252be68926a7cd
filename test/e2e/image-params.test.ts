import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** The delivery parameters beyond size and format: crop, tone, trim, byte budgets, Client Hints. */

/** Largest per-channel difference between two raw buffers of the same shape. */
function maxDifference(a: Buffer, b: Buffer): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function get(app: TestApp, token: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}${path}`, { headers: { ...bearer(token), ...headers } });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe("image parameters", () => {
  let app: TestApp;
  let owner: string;
  let photoId: string;
  let rotatedId: string;
  const photo = fixture("photos/olympus-e-m1-kite-2560x1600.jpg");
  const rotated = fixture("orientation/orientation-6.jpg");

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("olga");
    photoId = (await upload(app, owner, photo, { "content-type": "image/jpeg", prefer: "wait=10" })).body.id;
    rotatedId = (await upload(app, owner, rotated, { "content-type": "image/jpeg", prefer: "wait=10" })).body.id;
  });
  afterAll(() => app.close());

  describe("crop", () => {
    it("keeps the rectangle, then resizes it", async () => {
      const { res, bytes } = await get(app, owner, `/a/${photoId}?crop=100,200,800,400&w=400&fmt=png`);
      expect(res.status).toBe(200);
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height]).toEqual([400, 200]);
    });

    it("gives the pixels of sharp's extract of the original", async () => {
      const { bytes } = await get(app, owner, `/a/${photoId}?crop=1000,600,64,48&fmt=png`);
      const served = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([served.info.width, served.info.height]).toEqual([64, 48]);
      const reference = await sharp(photo).autoOrient().extract({ left: 1000, top: 600, width: 64, height: 48 }).raw().toBuffer();
      expect(maxDifference(served.data, reference)).toBeLessThanOrEqual(2);
    });

    it("counts in upright pixels (after EXIF orientation)", async () => {
      const upright = await sharp(rotated).autoOrient().metadata();
      const { res, bytes } = await get(app, owner, `/a/${rotatedId}?crop=0,0,${upright.autoOrient?.width ?? upright.width},20&fmt=png`);
      expect(res.status).toBe(200);
      const reference = await sharp(rotated).autoOrient().toBuffer({ resolveWithObject: true });
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height]).toEqual([reference.info.width, 20]);
    });

    it("crops a video frame in the frame's own pixels", async () => {
      const video = await upload(app, owner, fixture("video/h264-aac-1280x720-6s.mp4"), { "content-type": "video/mp4", prefer: "wait=20" });
      const { res, bytes } = await get(app, owner, `/a/${video.body.id}?t=1&crop=640,360,640,360&w=320&fmt=png`);
      expect(res.status).toBe(200);
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height]).toEqual([320, 180]);
    });

    it("answers 400 naming crop for a malformed rectangle or one outside the image", async () => {
      for (const query of ["crop=1,2,3", "crop=0,0,0,10", "crop=-1,0,10,10", "crop=2500,0,100,100", "crop=0,0,2560,1601"]) {
        const res = await fetch(`${app.url}/a/${photoId}?${query}`, { headers: bearer(owner) });
        expect(res.status, query).toBe(400);
        expect((await json(res)).error, query).toMatchObject({ code: "invalid_parameter", parameter: "crop" });
      }
    });
  });

  describe("brightness, contrast, saturation", () => {
    const mean = async (bytes: Buffer) => (await sharp(bytes).greyscale().stats()).channels[0]!.mean;
    const spread = async (bytes: Buffer) => (await sharp(bytes).greyscale().stats()).channels[0]!.stdev;

    it("brightness > 1 raises the mean luminance, < 1 lowers it", async () => {
      const plain = (await get(app, owner, `/a/${photoId}?w=320&fmt=png`)).bytes;
      const brighter = (await get(app, owner, `/a/${photoId}?w=320&fmt=png&brightness=1.5`)).bytes;
      const darker = (await get(app, owner, `/a/${photoId}?w=320&fmt=png&brightness=0.5`)).bytes;
      expect(await mean(brighter)).toBeGreaterThan((await mean(plain)) + 10);
      expect(await mean(darker)).toBeLessThan((await mean(plain)) - 10);
    });

    it("contrast widens the spread of luminance, saturation 0 makes grey", async () => {
      const plain = (await get(app, owner, `/a/${photoId}?w=320&fmt=png`)).bytes;
      const contrasted = (await get(app, owner, `/a/${photoId}?w=320&fmt=png&contrast=1.5`)).bytes;
      expect(await spread(contrasted)).toBeGreaterThan((await spread(plain)) * 1.2);
      const grey = await sharp((await get(app, owner, `/a/${photoId}?w=320&fmt=png&saturation=0`)).bytes).removeAlpha().raw().toBuffer();
      let chroma = 0;
      for (let i = 0; i < grey.length; i += 3) chroma = Math.max(chroma, Math.abs(grey[i]! - grey[i + 1]!), Math.abs(grey[i + 1]! - grey[i + 2]!));
      expect(chroma).toBeLessThanOrEqual(3);
    });

    it("value 1 is the plain variant: the same cache key", async () => {
      const plain = await get(app, owner, `/a/${photoId}?w=320&fmt=webp`);
      const one = await get(app, owner, `/a/${photoId}?w=320&fmt=webp&brightness=1&contrast=1.0&saturation=1`);
      expect(one.res.headers.get("etag")).toBe(plain.res.headers.get("etag"));
    });

    it("answers 400 naming the parameter outside 0..3", async () => {
      for (const key of ["brightness", "contrast", "saturation"]) {
        const res = await fetch(`${app.url}/a/${photoId}?w=100&${key}=4`, { headers: bearer(owner) });
        expect(res.status, key).toBe(400);
        expect((await json(res)).error).toMatchObject({ code: "invalid_parameter", parameter: key });
      }
    });
  });

  describe("trim", () => {
    let borderedId: string;
    beforeAll(async () => {
      // A 300x200 photo inside a white border of 40 and 25 pixels.
      const inner = await sharp(photo).resize(300, 200, { fit: "fill" }).png().toBuffer();
      const bordered = await sharp(inner).extend({ top: 25, bottom: 25, left: 40, right: 40, background: "#ffffff" }).png().toBuffer();
      borderedId = (await upload(app, owner, bordered, { "content-type": "image/png", prefer: "wait=10" })).body.id;
    });

    it("removes a uniform border: the inner size remains", async () => {
      const { res, bytes } = await get(app, owner, `/a/${borderedId}?trim=1`);
      expect(res.status).toBe(200);
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height]).toEqual([300, 200]);
    });

    it("trims before the resize", async () => {
      const meta = await sharp((await get(app, owner, `/a/${borderedId}?trim=30&w=150`)).bytes).metadata();
      expect([meta.width, meta.height]).toEqual([150, 100]);
    });

    it("answers 400 naming trim for a bad threshold or with crop", async () => {
      for (const query of ["trim=300", "trim=abc", "trim=1&crop=0,0,10,10"]) {
        const res = await fetch(`${app.url}/a/${borderedId}?${query}`, { headers: bearer(owner) });
        expect(res.status, query).toBe(400);
        expect((await json(res)).error, query).toMatchObject({ code: "invalid_parameter", parameter: "trim" });
      }
    });
  });

  describe("max_bytes", () => {
    it("fits the output in the budget at the highest quality that does, the same bytes every time", async () => {
      const budget = 20_000;
      const plain = await get(app, owner, `/a/${photoId}?w=1200&fmt=jpeg`);
      expect(plain.bytes.length).toBeGreaterThan(budget);
      const first = await get(app, owner, `/a/${photoId}?w=1200&fmt=jpeg&max_bytes=${budget}`, bearer(app.admin));
      expect(first.res.status).toBe(200);
      expect(first.bytes.length).toBeLessThanOrEqual(budget);
      const meta = await sharp(first.bytes).metadata();
      expect([meta.format, meta.width]).toEqual(["jpeg", 1200]);
      // The admin sees the quality chosen; the search goes below the default 80.
      const quality = Number(/quality;desc=(\d+)/.exec(first.res.headers.get("server-timing") ?? "")?.[1]);
      expect(quality).toBeGreaterThanOrEqual(10);
      expect(quality).toBeLessThan(80);
      // Deterministic for the key: a fresh render (another app) gives the same bytes.
      const other = await startApp();
      try {
        const t = await other.token("olga");
        const id = (await upload(other, t, photo, { "content-type": "image/jpeg", prefer: "wait=10" })).body.id;
        const again = await get(other, t, `/a/${id}?w=1200&fmt=jpeg&max_bytes=${budget}`);
        expect(again.bytes.equals(first.bytes)).toBe(true);
        expect(again.res.headers.get("etag")).toBe(first.res.headers.get("etag"));
      } finally {
        await other.close();
      }
      const cached = await get(app, owner, `/a/${photoId}?w=1200&fmt=jpeg&max_bytes=${budget}`);
      expect(cached.bytes.equals(first.bytes)).toBe(true);
    });

    it("keeps the full quality when it fits, and q is the ceiling of the search", async () => {
      const small = await get(app, owner, `/a/${photoId}?w=200&fmt=webp&q=60`);
      const budgeted = await get(app, owner, `/a/${photoId}?w=200&fmt=webp&q=60&max_bytes=1000000`);
      expect(budgeted.bytes.equals(small.bytes)).toBe(true);
    });

    it("makes the image smaller when even the lowest quality does not fit", async () => {
      const { res, bytes } = await get(app, owner, `/a/${photoId}?w=2000&fmt=webp&max_bytes=4096`);
      expect(res.status).toBe(200);
      expect(bytes.length).toBeLessThanOrEqual(4096);
      const meta = await sharp(bytes).metadata();
      expect(meta.width).toBeLessThan(2000);
      expect(meta.width! / meta.height!).toBeCloseTo(2560 / 1600, 1);
      // PNG has no quality: only the size steps.
      const png = await get(app, owner, `/a/${photoId}?w=400&fmt=png&max_bytes=30000`);
      expect(png.bytes.length).toBeLessThanOrEqual(30_000);
      expect((await sharp(png.bytes).metadata()).width).toBeLessThan(400);
    });

    it("answers 400 naming max_bytes out of range or with strip=0", async () => {
      for (const query of ["max_bytes=100", "max_bytes=99999999999", "max_bytes=20k", "max_bytes=20000&strip=0"]) {
        const res = await fetch(`${app.url}/a/${photoId}?w=100&${query}`, { headers: bearer(owner) });
        expect(res.status, query).toBe(400);
        expect((await json(res)).error, query).toMatchObject({ code: "invalid_parameter", parameter: "max_bytes" });
      }
    });
  });

  describe("Client Hints", () => {
    it("are off by default: no Accept-CH, hints ignored, no Vary on them", async () => {
      const { res, bytes } = await get(app, owner, `/a/${photoId}?w=300&fmt=png`, { "sec-ch-dpr": "2" });
      expect(res.headers.get("accept-ch")).toBeNull();
      expect(res.headers.get("vary")).toBeNull();
      expect((await sharp(bytes).metadata()).width).toBe(300);
    });

    describe("with ASSETD_CLIENT_HINTS=true", () => {
      let hintApp: TestApp;
      let token: string;
      let id: string;
      beforeAll(async () => {
        hintApp = await startApp({ ASSETD_CLIENT_HINTS: "true" });
        token = await hintApp.token("olga");
        id = (await upload(hintApp, token, photo, { "content-type": "image/jpeg", prefer: "wait=10" })).body.id;
      });
      afterAll(() => hintApp.close());

      it("asks for hints on transform responses, not on originals", async () => {
        const variant = await get(hintApp, token, `/a/${id}?w=300&fmt=webp`);
        expect(variant.res.headers.get("accept-ch")).toBe("Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width, DPR, Width, Viewport-Width");
        const original = await get(hintApp, token, `/a/${id}`);
        expect(original.res.headers.get("accept-ch")).toBeNull();
      });

      it("Sec-CH-DPR: 2 doubles the width, and Vary names the DPR hint", async () => {
        const one = await get(hintApp, token, `/a/${id}?w=300&fmt=png`);
        expect((await sharp(one.bytes).metadata()).width).toBe(300);
        expect(one.res.headers.get("vary")).toBe("Sec-CH-DPR, DPR");
        const two = await get(hintApp, token, `/a/${id}?w=300&fmt=png`, { "sec-ch-dpr": "2" });
        expect((await sharp(two.bytes).metadata()).width).toBe(600);
        expect(two.res.headers.get("vary")).toBe("Sec-CH-DPR, DPR");
        expect(two.res.headers.get("etag")).not.toBe(one.res.headers.get("etag"));
        // Rounded to a step: 1.8 is 2, the same variant.
        const near = await get(hintApp, token, `/a/${id}?w=300&fmt=png`, { dpr: "1.8" });
        expect(near.res.headers.get("etag")).toBe(two.res.headers.get("etag"));
        // An explicit dpr wins, and the hint is then not depended on.
        const fixed = await get(hintApp, token, `/a/${id}?w=300&dpr=1&fmt=png`, { "sec-ch-dpr": "2" });
        expect((await sharp(fixed.bytes).metadata()).width).toBe(300);
        expect(fixed.res.headers.get("vary")).toBeNull();
      });

      it("w=auto takes Sec-CH-Width rounded up to 100, else Viewport-Width times DPR, else no width", async () => {
        const wide = await get(hintApp, token, `/a/${id}?w=auto&fmt=webp`, { "sec-ch-width": "640", "sec-ch-dpr": "2", accept: "image/webp" });
        expect((await sharp(wide.bytes).metadata()).width).toBe(700);
        expect(wide.res.headers.get("vary")).toBe("Sec-CH-Width, Width");
        const viewport = await get(hintApp, token, `/a/${id}?w=auto&fmt=auto`, { "sec-ch-viewport-width": "390", "sec-ch-dpr": "3", accept: "image/webp" });
        expect((await sharp(viewport.bytes).metadata()).width).toBe(1200);
        expect(viewport.res.headers.get("vary")).toBe("Accept, Sec-CH-Width, Width, Sec-CH-Viewport-Width, Viewport-Width, Sec-CH-DPR, DPR");
        const none = await get(hintApp, token, `/a/${id}?w=auto&fmt=png&h=100`);
        expect((await sharp(none.bytes).metadata()).height).toBe(100);
      });

      it("leaves URLs with nothing to scale alone", async () => {
        const res = (await get(hintApp, token, `/a/${id}?fmt=webp&q=50`, { "sec-ch-dpr": "2", "sec-ch-width": "300" })).res;
        expect(res.headers.get("vary")).toBeNull();
        expect(res.headers.get("accept-ch")).not.toBeNull();
      });
    });
  });
});
