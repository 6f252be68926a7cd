import exifr from "exifr";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** Every GPS tag exifr can find anywhere in the file (EXIF GPS IFD and XMP). */
async function gpsOf(bytes: Uint8Array): Promise<Record<string, unknown>> {
  const parsed = ((await exifr.parse(Buffer.from(bytes), { gps: true, xmp: true, translateValues: false, mergeOutput: true })) ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(parsed).filter(([key]) => /^gps|latitude|longitude/i.test(key)));
}

async function pixels(bytes: Uint8Array): Promise<Buffer> {
  return sharp(Buffer.from(bytes)).raw().toBuffer();
}

describe("location privacy: nobody but the owner and admins receives GPS in bytes", () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let gpsId: string;
  let plainId: string;
  const photo = fixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg");
  const plain = fixture("formats/lossy-freshflower-800x602.webp");

  beforeAll(async () => {
    app = await startApp();
    alice = await app.token("alice");
    bob = await app.token("bob");
    gpsId = (await upload(app, alice, photo, { "content-type": "image/jpeg", prefer: "wait=10" }, "?public=true&filename=lake.jpg")).body.id;
    plainId = (await upload(app, alice, plain, { prefer: "wait=10" }, "?public=true&filename=flower.webp")).body.id;
  });
  afterAll(() => app.close());

  it("the fixture carries GPS to begin with", async () => {
    expect(Object.keys(await gpsOf(photo)).length).toBeGreaterThan(0);
  });

  it("serves anonymous callers and other users the original without location, same pixels, its own ETag", async () => {
    const original = await pixels(photo);
    for (const headers of [{}, bearer(bob)]) {
      const res = await fetch(`${app.url}/a/${gpsId}`, { headers });
      expect(res.status).toBe(200);
      const body = new Uint8Array(await res.arrayBuffer());
      expect(await gpsOf(body)).toEqual({});
      expect((await pixels(body)).equals(original)).toBe(true);
      expect(Number(res.headers.get("content-length"))).toBe(body.length);
      const etag = res.headers.get("etag");
      expect(etag).not.toBe(`"${sha256(photo)}"`);
      expect(etag).toBe(`"${sha256(photo)}-nogps"`);
      // Conditional requests and ranges work on the scrubbed bytes.
      expect((await fetch(`${app.url}/a/${gpsId}`, { headers: { ...headers, "if-none-match": etag! } })).status).toBe(304);
      const ranged = await fetch(`${app.url}/a/${gpsId}`, { headers: { ...headers, range: "bytes=100-1099" } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get("content-range")).toBe(`bytes 100-1099/${body.length}`);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(Buffer.from(body.subarray(100, 1100)))).toBe(true);
      const head = await fetch(`${app.url}/a/${gpsId}`, { method: "HEAD", headers });
      expect(head.headers.get("etag")).toBe(etag);
      expect(Number(head.headers.get("content-length"))).toBe(body.length);
    }
  });

  it("serves the owner and admins the exact original under the blob's sha256", async () => {
    for (const token of [alice, app.admin]) {
      const res = await fetch(`${app.url}/a/${gpsId}`, { headers: bearer(token) });
      const body = new Uint8Array(await res.arrayBuffer());
      expect(sha256(body)).toBe(sha256(photo));
      expect(res.headers.get("etag")).toBe(`"${sha256(photo)}"`);
      expect(Object.keys(await gpsOf(body)).length).toBeGreaterThan(0);
    }
  });

  it("treats a signed URL as anyone's, even with the owner's token", async () => {
    const signed = await fetch(`${app.url}/v1/assets/${gpsId}/signed-url`, {
      method: "POST", headers: { ...bearer(alice), "content-type": "application/json" }, body: "{}",
    });
    expect(signed.status).toBe(201);
    const { url } = await json(signed);
    for (const headers of [{}, bearer(alice)]) {
      const res = await fetch(new URL(url, app.url), { headers });
      expect(res.status).toBe(200);
      expect(await gpsOf(new Uint8Array(await res.arrayBuffer()))).toEqual({});
    }
  });

  it("keeps other metadata but never location in strip=0 variants", async () => {
    const camera = ((await exifr.parse(Buffer.from(photo), { translateValues: false })) as Record<string, unknown>).Model;
    expect(camera).toBeTruthy();
    for (const headers of [{}, bearer(bob), bearer(alice)]) {
      const res = await fetch(`${app.url}/a/${gpsId}?strip=0&w=200&fmt=jpeg`, { headers });
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      expect(await gpsOf(body)).toEqual({});
      const exif = (await exifr.parse(body, { translateValues: false })) as Record<string, unknown>;
      expect(exif.Model).toBe(camera);
    }
  });

  it("serves a photo without location as it is, to anyone", async () => {
    for (const headers of [{}, bearer(bob)]) {
      const res = await fetch(`${app.url}/a/${plainId}`, { headers });
      const body = new Uint8Array(await res.arrayBuffer());
      expect(sha256(body)).toBe(sha256(plain));
      expect(res.headers.get("etag")).toBe(`"${sha256(plain)}"`);
    }
  });
});
