import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

const LZW = "formats/ladybird-800x500-lzw.tif";
const PHOTOS = ["photos/olympus-e-m1-kite-2560x1600.jpg", "photos/nokia-n9-gps-bythewater-2560x1600.jpg", "photos/grayscale-grey-2560x1600.jpg"];

/** Mean absolute difference per channel value of two same-sized RGB renderings. */
async function meanDiff(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((img) => sharp(img).removeAlpha().toColourspace("srgb").raw().toBuffer()));
  expect(x!.length).toBe(y!.length);
  let sum = 0;
  for (let i = 0; i < x!.length; i++) sum += Math.abs(x![i]! - y![i]!);
  return sum / x!.length;
}

/**
 * TIFFs whose directory lies past the sniffer's 64 KiB head (libvips, and many scanners,
 * write it after the image data) are recognised from the whole file and transform.
 */
describe("TIFF uploads", () => {
  let app: TestApp;
  let owner: string;
  let pages: Buffer[];
  let multipage: Buffer;
  const get = (id: string, query: string) => fetch(`${app.url}/a/${id}?${query}`, { headers: bearer(owner) });
  const put = async (bytes: Buffer, headers: Record<string, string> = {}) => {
    const res = await upload(app, owner, bytes, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return settled(app, owner, res.body.id, 30_000);
  };

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("tove");
    pages = await Promise.all(PHOTOS.map((p) => sharp(fixture(p)).resize(640, 400).toColourspace("srgb").png().toBuffer()));
    multipage = await sharp(pages, { join: { animated: true } }).tiff({ compression: "lzw" }).toBuffer();
  });
  afterAll(() => app.close());

  it("accepts the LZW TIFF whose directory sits at its end, declared or not", async () => {
    const tif = fixture(LZW);
    expect(tif.readUInt32LE(4)).toBeGreaterThan(64 * 1024); // the first IFD is outside the head
    const declared = await put(tif, { "content-type": "image/tiff" });
    expect(declared).toMatchObject({ status: "ready", contentType: "image/tiff", meta: { width: 800, height: 500, format: "tiff" } });
    const undeclared = await put(tif);
    expect(undeclared.contentType).toBe("image/tiff");

    const webp = await get(declared.id, "w=300&fmt=webp");
    expect(webp.status).toBe(200);
    expect(webp.headers.get("content-type")).toBe("image/webp");
    const rendered = Buffer.from(await webp.arrayBuffer());
    expect(await sharp(rendered).metadata()).toMatchObject({ format: "webp", width: 300, height: 188 });
    expect(await meanDiff(rendered, await sharp(tif).resize(300, 188).png().toBuffer())).toBeLessThan(4);

    // Without fmt a browser format is chosen: JPEG.
    const plain = await get(undeclared.id, "w=200");
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toBe("image/jpeg");
  });

  it("recognises it on completion of an upload session too (PUT to the upload URL, then complete)", async () => {
    const tif = fixture(LZW);
    const opened = await fetch(`${app.url}/v1/uploads`, {
      method: "POST", headers: { ...bearer(owner), "content-type": "application/json" },
      body: JSON.stringify({ filename: "ladybird.tif", contentType: "image/tiff", size: tif.length }),
    }).then(json);
    const sent = await fetch(opened.upload.url, { method: "PUT", body: tif, headers: opened.upload.headers });
    await sent.arrayBuffer();
    expect(sent.status).toBe(200);
    const done = await fetch(`${app.url}/v1/uploads/${opened.asset.id}/complete`, {
      method: "POST", headers: { ...bearer(owner), "content-type": "application/json" }, body: "{}",
    });
    expect(done.status).toBe(200);
    expect((await json(done)).contentType).toBe("image/tiff");
  });

  it("still refuses bytes that only start like a TIFF", async () => {
    const fake = Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00, 0xff, 0xff, 0xff, 0x00]), Buffer.alloc(100_000, 7)]);
    const res = await upload(app, owner, fake, { "content-type": "image/tiff" });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("type_mismatch");
  });

  it("transforms a multipage TIFF page by page", async () => {
    expect(multipage.readUInt32LE(4)).toBeGreaterThan(64 * 1024);
    const asset = await put(multipage);
    expect(asset).toMatchObject({ status: "ready", contentType: "image/tiff", meta: { width: 640, height: 400, pages: 3 } });
    for (const [index, page] of pages.entries()) {
      const res = await get(asset.id, `page=${index + 1}&w=320&fmt=png`);
      expect(res.status, `page ${index + 1}`).toBe(200);
      const rendered = Buffer.from(await res.arrayBuffer());
      expect(await sharp(rendered).metadata()).toMatchObject({ width: 320, height: 200 });
      const expected = await sharp(page).resize(320, 200).png().toBuffer();
      expect(await meanDiff(rendered, expected), `page ${index + 1}`).toBeLessThan(4);
      // ...and it is not one of the other pages.
      const other = await sharp(pages[(index + 1) % pages.length]!).resize(320, 200).png().toBuffer();
      expect(await meanDiff(rendered, other)).toBeGreaterThan(10);
    }
    const missing = await get(asset.id, "page=4&w=100");
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.code).toBe("invalid_parameter");
  });
});
