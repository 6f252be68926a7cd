import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";
import { withClaimedSize, withRotation } from "../helpers/heif.js";

const HEIC = "formats/olympus-darkesthour-1024x640.heic";

/** HEIC photos transform like any other image: libheif decodes, sharp renders (MANIFEST: 1024x640). */
describe("HEIC transforms", () => {
  let app: TestApp;
  let owner: string;
  const put = async (bytes: Buffer) => {
    const res = await upload(app, owner, bytes, { "content-type": "image/heic" });
    expect(res.status).toBe(201);
    return settled(app, owner, res.body.id, 30_000);
  };
  const get = (id: string, query: string) => fetch(`${app.url}/a/${id}?${query}`, { headers: bearer(owner) });
  const pixelsOf = async (res: Response) => {
    const bytes = Buffer.from(await res.arrayBuffer());
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    return { bytes, data, width: info.width, height: info.height, format: (await sharp(bytes).metadata()).format };
  };

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("hana");
  });
  afterAll(() => app.close());

  it("renders the fixture to JPEG and WebP at the requested width", async () => {
    const asset = await put(fixture(HEIC));
    expect(asset).toMatchObject({ status: "ready", contentType: "image/heic", meta: { width: 1024, height: 640, format: "heic" } });
    // Described from decoded pixels: the fingerprints exist only when the pixels decoded.
    expect(asset.meta.blurhash).toEqual(expect.any(String));

    const jpeg = await get(asset.id, "w=300&fmt=jpeg");
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get("content-type")).toBe("image/jpeg");
    expect(await pixelsOf(jpeg)).toMatchObject({ format: "jpeg", width: 300, height: 188 });

    const webp = await get(asset.id, "w=300&fmt=webp");
    expect(webp.status).toBe(200);
    expect(webp.headers.get("content-type")).toBe("image/webp");
    expect(await pixelsOf(webp)).toMatchObject({ format: "webp", width: 300, height: 188 });

    // Without fmt a browser format is chosen for it: JPEG (no alpha).
    const plain = await get(asset.id, "w=200");
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toBe("image/jpeg");
  });

  it("shows a rotated HEIC (irot) upright, at its displayed size", async () => {
    const upright = await put(fixture(HEIC));
    const rotated = await put(withRotation(fixture(HEIC), 1)); // 90° anticlockwise
    expect(rotated.meta).toMatchObject({ width: 640, height: 1024 });
    const res = await get(rotated.id, "w=300&fmt=png");
    expect(res.status).toBe(200);
    const turned = await pixelsOf(res);
    expect(turned).toMatchObject({ width: 300, height: 480 });
    // The same picture as the upright one turned by sharp: mean difference of a few levels.
    const reference = await sharp(Buffer.from(await (await get(upright.id, "h=300&fmt=png")).arrayBuffer()))
      .rotate(270).raw().toBuffer({ resolveWithObject: true });
    expect(reference.info).toMatchObject({ width: 300, height: 480, channels: 3 });
    let diff = 0;
    for (let i = 0; i < turned.data.length; i++) diff += Math.abs(turned.data[i]! - reference.data[i]!);
    expect(diff / turned.data.length).toBeLessThan(3);
  });

  it("refuses a HEIC whose header claims 20000x20000 with 422 pixel_limit_exceeded, without decoding it", async () => {
    const bomb = await put(withClaimedSize(fixture(HEIC), 20_000, 20_000));
    expect(bomb).toMatchObject({ status: "ready", meta: { width: 20_000, height: 20_000, overPixelLimit: true } });
    const res = await get(bomb.id, "w=100&fmt=jpeg");
    expect(res.status).toBe(422);
    expect((await json(res)).error).toMatchObject({ code: "pixel_limit_exceeded" });
  });

  it("a page other than the primary image is a 400", async () => {
    const asset = await put(fixture(HEIC));
    const res = await get(asset.id, "w=100&page=2");
    expect(res.status).toBe(400);
  });
});
