import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** The hostile rows of ../shared/fixtures/MANIFEST.md, through the real HTTP API. */
describe("hostile input", () => {
  let app: TestApp;
  let mallory: string;

  beforeAll(async () => {
    app = await startApp();
    mallory = await app.token("mallory");
  });
  afterAll(() => app.close());

  const rawObjects = async () => (await app.storedObjects()).filter((key) => key.startsWith("raw/")).length;

  it("empty body -> 400 empty_body, nothing stored", async () => {
    const before = await rawObjects();
    const res = await upload(app, mallory, fixture("hostile/empty.jpg"), { "content-type": "image/jpeg" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("empty_body");
    expect(await rawObjects()).toBe(before);
  });

  it("a PNG named .jpg -> 415 naming both types", async () => {
    const res = await upload(app, mallory, fixture("hostile/really-a-png.jpg"), {}, "?filename=really-a-png.jpg");
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: "type_mismatch", declared: "image/jpeg", sniffed: "image/png" });
    const viaHeader = await upload(app, mallory, fixture("hostile/really-a-png.jpg"), { "content-type": "image/jpeg" });
    expect(viaHeader.status).toBe(415);
  });

  it("HTML declared as PNG -> 415, never stored", async () => {
    const before = await rawObjects();
    const res = await upload(app, mallory, fixture("hostile/really-html.png"), { "content-type": "image/png" });
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: "type_mismatch", sniffed: "text/html" });
    expect(await rawObjects()).toBe(before);
  });

  it("HTML is not an allowed type by default", async () => {
    const res = await upload(app, mallory, fixture("hostile/really-html.png"));
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("type_not_allowed");
  });

  it("a JPEG with an HTML tail is served only as image/jpeg with nosniff; variants drop the payload", async () => {
    const res = await upload(app, mallory, fixture("hostile/polyglot-jpeg-html.jpg"), { "content-type": "image/jpeg", prefer: "wait=10" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ contentType: "image/jpeg", status: "ready", meta: { width: 400, height: 250 } });
    const original = await fetch(`${app.url}/a/${res.body.id}`, { headers: { ...bearer(mallory), accept: "text/html" } });
    expect(original.headers.get("content-type")).toBe("image/jpeg");
    expect(original.headers.get("x-content-type-options")).toBe("nosniff");
    const variant = await fetch(`${app.url}/a/${res.body.id}?w=200`, { headers: bearer(mallory) });
    expect(variant.status).toBe(200);
    const bytes = Buffer.from(await variant.arrayBuffer());
    expect(bytes.includes(Buffer.from("<script"))).toBe(false);
    expect((await sharp(bytes).metadata()).width).toBe(200);
  });

  it("an SVG with script is stored as SVG and served sandboxed; its raster variant is plain pixels", async () => {
    const res = await upload(app, mallory, fixture("hostile/svg-with-script.svg"), { "content-type": "image/svg+xml" });
    expect(res.status).toBe(201);
    expect(res.body.contentType).toBe("image/svg+xml");
    const original = await fetch(`${app.url}/a/${res.body.id}`, { headers: bearer(mallory) });
    expect(original.headers.get("content-type")).toBe("image/svg+xml");
    expect(original.headers.get("content-security-policy")).toBe("sandbox");
    expect(original.headers.get("x-content-type-options")).toBe("nosniff");
    const raster = await fetch(`${app.url}/a/${res.body.id}?w=100&fmt=png`, { headers: bearer(mallory) });
    expect(raster.status).toBe(200);
    expect(raster.headers.get("content-type")).toBe("image/png");
    expect((await sharp(Buffer.from(await raster.arrayBuffer())).metadata()).format).toBe("png");
  });

  it("serves an SVG's scripts to its owner only: others get it without scripts, handlers or javascript: links", async () => {
    const svg = fixture("hostile/svg-with-script.svg");
    const res = await upload(app, mallory, svg, { "content-type": "image/svg+xml" }, "?public=true");
    const own = await fetch(`${app.url}/a/${res.body.id}`, { headers: bearer(mallory) });
    expect(Buffer.from(await own.arrayBuffer()).equals(svg)).toBe(true);
    expect(own.headers.get("etag")).toBe(`"${sha256(svg)}"`);

    const other = await fetch(`${app.url}/a/${res.body.id}`);
    expect(other.status).toBe(200);
    expect(other.headers.get("content-security-policy")).toBe("sandbox");
    expect(other.headers.get("etag")).toBe(`"${sha256(svg)}-safe"`);
    const text = await other.text();
    expect(text).not.toMatch(/<script|onload|javascript:/i);
    expect(text).toMatch(/<rect width="200" height="200" fill="#d70a53"\/>/);
    expect(Number(other.headers.get("content-length"))).toBe(Buffer.byteLength(text));
    // Still the same picture.
    const raster = async (bytes: Buffer) => sharp(bytes).png().raw().toBuffer();
    expect((await raster(Buffer.from(text))).equals(await raster(svg))).toBe(true);

    // An SVG without active parts goes out as it is, to anyone.
    const plain = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="4"/></svg>\n');
    const clean = await upload(app, mallory, plain, { "content-type": "image/svg+xml" }, "?public=true");
    const served = await fetch(`${app.url}/a/${clean.body.id}`);
    expect(Buffer.from(await served.arrayBuffer()).equals(plain)).toBe(true);
  });

  it("a decompression bomb is described from its header and every transform answers 422", async () => {
    const res = await upload(app, mallory, fixture("hostile/bomb-20000x20000.png"), { "content-type": "image/png" });
    expect(res.status).toBe(201);
    const ready = await settled(app, mallory, res.body.id);
    expect(ready.status).toBe("ready");
    expect(ready.meta).toMatchObject({ width: 20000, height: 20000 });
    const rssBefore = process.memoryUsage().rss;
    const variant = await fetch(`${app.url}/a/${res.body.id}?w=100`, { headers: bearer(mallory) });
    expect(variant.status).toBe(422);
    expect((await json(variant)).error.code).toBe("pixel_limit_exceeded");
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it("a truncated JPEG ends failed with undecodable_media and transforms answer 422", async () => {
    const res = await upload(app, mallory, fixture("hostile/truncated-40pct-raindrops.jpg"), { "content-type": "image/jpeg" });
    expect(res.status).toBe(201);
    const final = await settled(app, mallory, res.body.id);
    expect(final.status).toBe("failed");
    expect(final.failure.code).toBe("undecodable_media");
    const variant = await fetch(`${app.url}/a/${res.body.id}?w=100`, { headers: bearer(mallory) });
    expect(variant.status).toBe(422);
    expect((await json(variant)).error.code).toBe("undecodable_media");
  });

  it("the EICAR string without a scanner is a 68-byte text/plain file", async () => {
    const res = await upload(app, mallory, fixture("hostile/eicar.txt"), { prefer: "wait=10" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ contentType: "text/plain", size: 68, status: "ready" });
  });

  it("transform parameters out of range -> 400 naming the parameter", async () => {
    const res = await upload(app, mallory, fixture("orientation/orientation-1.jpg"), { "content-type": "image/jpeg" });
    for (const [query, parameter] of [["w=0", "w"], ["w=99999", "w"], ["fit=squash", "fit"], ["q=0", "q"], ["nope=1", "nope"], ["bg=zzz", "bg"]]) {
      const response = await fetch(`${app.url}/a/${res.body.id}?${query}`, { headers: bearer(mallory) });
      expect(response.status, query).toBe(400);
      expect((await json(response)).error).toMatchObject({ code: "invalid_parameter", parameter });
    }
  });

  it("malformed ids are plain 404s", async () => {
    for (const id of ["nope", "..%2F..%2Fetc", "01ARZ3NDEKTSV4RRFFQ69G5FAV"]) {
      const response = await fetch(`${app.url}/a/${id}`);
      expect(response.status).toBe(404);
      expect((await json(response)).error.code).toBe("not_found");
    }
  });
});
