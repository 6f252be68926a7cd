import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import type { Recipe } from "../../src/domain/recipe.js";
import { createSharpEngine, PROCESSOR_VERSION } from "../../src/media/image/engine.js";
import { bufferSource, fixturePath, fixtureSource, LIMITS, threePageTiff } from "./fixtures.js";
import { colourStats, compare, difference, pixelAt, rgb } from "./pixels.js";

const engine = createSharpEngine({ avifEffort: 2 });
const render = (fixture: string, recipe: Recipe, limits = LIMITS) => engine.render(fixtureSource(fixture), recipe, limits);

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("processorVersion and canRender", () => {
  it("names the pipeline, sharp and libvips versions", () => {
    expect(engine.processorVersion).toBe(PROCESSOR_VERSION);
    expect(engine.processorVersion).toMatch(/^p\d+-sharp\d+\.\d+\.\d+-vips\d+\.\d+\.\d+$/);
  });

  it("renders the web formats, TIFF and SVG, but not HEIC, PDF or video", () => {
    for (const t of ["image/jpeg", "image/jpg", "image/png", "image/webp", "image/avif", "image/gif", "image/tiff", "image/svg+xml"]) {
      expect(engine.canRender(t), t).toBe(true);
    }
    for (const t of ["image/heic", "application/pdf", "video/mp4", "text/plain", "image/bmp", ""]) {
      expect(engine.canRender(t), t).toBe(false);
    }
  });
});

describe("EXIF orientation", () => {
  const expected = fixturePath("orientation/orientation-expected.jpg");

  for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`orientation ${n} comes out upright and equal to the reference`, async () => {
      // Lossless PNG output: only decoding differs from the reference (jpegtran -perfect).
      const png = await render(`orientation/orientation-${n}.jpg`, { fmt: "png" });
      expect([png.width, png.height]).toEqual([640, 480]);
      const exact = difference(await rgb(png.data), await rgb(expected));
      expect(exact.pae).toBeLessThanOrEqual(3);
      expect(exact.mad).toBeLessThan(0.2);

      // Default output re-encodes as JPEG q80 (mean error ~4); a wrong orientation is ~50.
      const jpeg = await render(`orientation/orientation-${n}.jpg`, { w: 320 });
      expect(jpeg.format).toBe("jpeg");
      expect([jpeg.width, jpeg.height]).toEqual([320, 240]);
      expect((await compare(jpeg.data, expected)).mad).toBeLessThan(6);
      const meta = await sharp(jpeg.data).metadata();
      expect(meta.orientation).toBeUndefined();
      expect(meta.exif).toBeUndefined();
    });
  }

  it("the JPEG bound would catch a wrong orientation", async () => {
    const mirrored = await sharp(expected).flop().jpeg().toBuffer();
    expect((await compare(mirrored, expected)).mad).toBeGreaterThan(20);
  });
});

describe("resizing", () => {
  it("w=300&fmt=webp gives a 300 px wide WebP with the aspect ratio kept", async () => {
    const out = await render("photos/progressive-aitzgorri-3088x2056.jpg", { w: 300, fmt: "webp" });
    expect(out.format).toBe("webp");
    expect(out.contentType).toBe("image/webp");
    expect(out.width).toBe(300);
    expect(out.height).toBe(Math.round((2056 * 300) / 3088));
    const meta = await sharp(out.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", out.width, out.height]);
  });

  it("h alone keeps the aspect ratio too", async () => {
    const out = await render("photos/portrait-friends-2056x3088.jpg", { h: 300 });
    expect([out.width, out.height]).toEqual([Math.round((2056 * 300) / 3088), 300]);
  });

  it.each([
    [undefined, 300, 300], ["cover", 300, 300], ["contain", 300, 300], ["fill", 300, 300],
    ["inside", 300, 200], ["outside", 450, 300],
  ] as const)("w=300&h=300&fit=%s on 1920x1280 is %ix%i", async (fit, width, height) => {
    const out = await render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 300, h: 300, ...(fit ? { fit } : {}) });
    expect([out.width, out.height]).toEqual([width, height]);
  });

  it("cover crops the centre, fill distorts, contain pads with white for JPEG", async () => {
    const src = fixturePath("orientation/orientation-expected.jpg"); // 640x480
    const cover = await render("orientation/orientation-expected.jpg", { w: 200, h: 200, fmt: "png" });
    const centre = await sharp(src).extract({ left: 80, top: 0, width: 480, height: 480 }).resize(200, 200).png().toBuffer();
    // ~4.5 from sub-pixel crop rounding; any other crop of this photo is above 25.
    expect((await compare(cover.data, centre)).mad).toBeLessThan(8);
    const offCentre = await sharp(src).extract({ left: 120, top: 0, width: 480, height: 480 }).resize(200, 200).png().toBuffer();
    expect((await compare(cover.data, offCentre)).mad).toBeGreaterThan(15);

    const contain = await render("orientation/orientation-expected.jpg", { w: 200, h: 200, fit: "contain" });
    expect(contain.format).toBe("jpeg");
    const [r, g, b] = await pixelAt(contain.data, 100, 2); // top padding band (image is 200x150)
    expect(Math.min(r, g, b)).toBeGreaterThan(245);
  });

  it("pos moves the cover crop; entropy and attention give the requested size", async () => {
    const src = fixturePath("orientation/orientation-expected.jpg");
    const west = await render("orientation/orientation-expected.jpg", { w: 200, h: 200, pos: "west", fmt: "png" });
    const left = await sharp(src).extract({ left: 0, top: 0, width: 480, height: 480 }).resize(200, 200).png().toBuffer();
    expect((await compare(west.data, left)).mad).toBeLessThan(3);
    for (const pos of ["entropy", "attention"] as const) {
      const out = await render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 200, h: 300, pos });
      expect([out.width, out.height]).toEqual([200, 300]);
    }
  });

  it("never enlarges unless enlarge is set", async () => {
    const small = "orientation/orientation-expected.jpg"; // 640x480
    expect(await sizeOf(render(small, { w: 1000 }))).toEqual([640, 480]);
    expect(await sizeOf(render(small, { w: 1000, enlarge: true }))).toEqual([1000, 750]);
    expect(await sizeOf(render(small, { w: 1000, h: 200 }))).toEqual([640, 200]);
    expect(await sizeOf(render(small, { w: 1000, h: 1000, fit: "inside" }))).toEqual([640, 480]);
    expect(await sizeOf(render(small, { w: 1000, h: 1000, fit: "inside", enlarge: true }))).toEqual([1000, 750]);
  });
});

async function sizeOf(work: Promise<{ width: number; height: number }>): Promise<[number, number]> {
  const { width, height } = await work;
  return [width, height];
}

describe("rotate, flip, flop, blur, sharpen", () => {
  const ref = fixturePath("orientation/orientation-expected.jpg");

  it("rotate applies after orientation and after resizing", async () => {
    // orientation-6 is stored sideways; rotate=90 turns the *upright* image.
    const out = await render("orientation/orientation-6.jpg", { w: 320, rotate: 90, fmt: "png" });
    expect([out.width, out.height]).toEqual([240, 320]);
    const expected = await sharp(ref).resize(320).rotate(90).png().toBuffer();
    expect((await compare(out.data, expected)).mad).toBeLessThan(2);
  });

  it("flip mirrors top-bottom and flop left-right", async () => {
    const flipped = await render("orientation/orientation-expected.jpg", { flip: true, fmt: "png" });
    expect((await compare(flipped.data, await sharp(ref).flip().png().toBuffer())).mad).toBeLessThan(1);
    const flopped = await render("orientation/orientation-expected.jpg", { flop: true, fmt: "png" });
    expect((await compare(flopped.data, await sharp(ref).flop().png().toBuffer())).mad).toBeLessThan(1);
  });

  it("blur softens and sharpen crisps", async () => {
    const plain = await sharp((await render("orientation/orientation-expected.jpg", { fmt: "png" })).data).stats();
    const blurred = await sharp((await render("orientation/orientation-expected.jpg", { blur: 5, fmt: "png" })).data).stats();
    const sharpened = await sharp((await render("orientation/orientation-expected.jpg", { sharpen: 2, fmt: "png" })).data).stats();
    expect(blurred.sharpness).toBeLessThan(plain.sharpness * 0.5);
    expect(sharpened.sharpness).toBeGreaterThan(plain.sharpness);
  });

  it("the URL order cannot change the result: one recipe, one image", async () => {
    const a = await render("orientation/orientation-expected.jpg", { w: 200, rotate: 90, flop: true, fmt: "png" });
    const b = await render("orientation/orientation-expected.jpg", { flop: true, rotate: 90, w: 200, fmt: "png" });
    expect(a.data.equals(b.data)).toBe(true);
  });
});

describe("colour", () => {
  it("CMYK (inverted Adobe-style, embedded SWOP profile) becomes sRGB through its profile, not inverted", async () => {
    const src = fixturePath("photos/cmyk-fig-1200x812.jpg");
    const out = await render("photos/cmyk-fig-1200x812.jpg", { w: 400, fmt: "png" });
    const pixels = await rgb(out.data);
    const { mean } = colourStats(pixels);
    // A red bowl on grey concrete: red dominates. Inverted, it would be a cyan bowl.
    expect(mean[0]).toBeGreaterThan(mean[1] + 30);
    expect(mean[0]).toBeGreaterThan(mean[2] + 30);
    // Same as libvips' own transform through the embedded profile...
    const reference = await sharp(src).resize(400).toColourspace("srgb").png().toBuffer();
    expect((await compare(out.data, reference)).mad).toBeLessThan(2);
    // ...and far from the negative.
    const negative = await sharp(reference).negate({ alpha: false }).png().toBuffer();
    expect((await compare(out.data, negative)).mad).toBeGreaterThan(60);
  });

  it("Adobe RGB is converted to sRGB (not just stripped, which looks dull)", async () => {
    const src = fixturePath("photos/adobergb-olympus-path-1600x1000.jpg");
    const out = await render("photos/adobergb-olympus-path-1600x1000.jpg", { w: 400, fmt: "png" });
    const converted = colourStats(await rgb(out.data));
    const naive = await sharp(src, { ignoreIcc: true }).resize(400).png().toBuffer();
    const dull = colourStats(await rgb(naive));
    expect(converted.chroma).toBeGreaterThan(dull.chroma * 1.15);
    expect((await compare(out.data, naive)).mad).toBeGreaterThan(3);
    const reference = await sharp(src).resize(400).withIccProfile("srgb", { attach: false }).png().toBuffer();
    expect((await compare(out.data, reference)).mad).toBeLessThan(1);
    expect((await sharp(out.data).metadata()).icc).toBeUndefined();
  });

  it("16-bit input with a profile is converted to sRGB, not left in sharp's P3 working space", async () => {
    const adobe = fixturePath("photos/adobergb-olympus-path-1600x1000.jpg");
    const png16 = await sharp(adobe, { ignoreIcc: true }).resize(400).toColourspace("rgb16").keepIccProfile().png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe("ushort");
    const out = await engine.render(bufferSource(png16, "image/png"), { fmt: "png" }, LIMITS);
    const reference = await sharp(adobe).resize(400).png().toBuffer();
    expect((await compare(out.data, reference)).mad).toBeLessThan(1.5);
  });

  it("grayscale keeps looking identical", async () => {
    const src = fixturePath("photos/grayscale-grey-2560x1600.jpg");
    const out = await render("photos/grayscale-grey-2560x1600.jpg", { w: 640, fmt: "png" });
    const stats = colourStats(await rgb(out.data));
    expect(stats.chroma).toBeLessThan(1);
    const reference = await sharp(src).resize(640).png().toBuffer();
    expect((await compare(out.data, reference)).mad).toBeLessThan(1);
  });
});

describe("metadata", () => {
  it("strips EXIF (GPS, thumbnail) and XMP by default", async () => {
    for (const [fixture, fmt] of [["photos/nokia-n9-gps-bythewater-2560x1600.jpg", undefined],
      ["photos/nokia-n9-gps-bythewater-2560x1600.jpg", "webp"], ["photos/canon-eos-400d-storm-1920x1280.jpg", undefined],
      ["photos/olympus-e-m1-kite-2560x1600.jpg", "png"]] as const) {
      const out = await render(fixture, { w: 300, ...(fmt ? { fmt } : {}) });
      const meta = await sharp(out.data).metadata();
      expect(meta.exif, fixture).toBeUndefined();
      expect(meta.xmp, fixture).toBeUndefined();
      expect(meta.iptc, fixture).toBeUndefined();
      expect(meta.icc, fixture).toBeUndefined();
    }
  });

  it("strip=false keeps EXIF (GPS included) and an RGB profile with its pixels", async () => {
    const out = await render("photos/nokia-n9-gps-bythewater-2560x1600.jpg", { w: 300, strip: false });
    const meta = await sharp(out.data).metadata();
    expect(meta.exif).toBeDefined();
    expect(meta.exif!.includes(Buffer.from("N9"))).toBe(true);

    const adobe = await render("photos/adobergb-olympus-path-1600x1000.jpg", { w: 300, strip: false });
    const adobeMeta = await sharp(adobe.data).metadata();
    expect(adobeMeta.icc?.includes(Buffer.from("Compatible with Adobe RGB"))).toBe(true);
    expect(adobeMeta.xmp).toBeDefined();
  });

  it("strip=false on CMYK converts to sRGB and attaches sRGB, never a CMYK profile on RGB pixels", async () => {
    const out = await render("photos/cmyk-fig-1200x812.jpg", { w: 300, strip: false, fmt: "png" });
    const meta = await sharp(out.data).metadata();
    expect(meta.space).toBe("srgb");
    expect(meta.icc?.includes(Buffer.from("CMYK"))).toBe(false);
    const reference = await sharp(fixturePath("photos/cmyk-fig-1200x812.jpg")).resize(300).png().toBuffer();
    expect((await compare(out.data, reference)).mad).toBeLessThan(3);
  });
});

describe("formats", () => {
  it("keeps the source format when browsers show it", async () => {
    expect((await render("formats/lossy-freshflower-800x602.webp", { w: 100 })).format).toBe("webp");
    expect((await render("formats/aqua-800x500.avif", { w: 100 })).format).toBe("avif");
    expect((await render("formats/alpha-debian-emblem-256x256.png", { w: 100 })).format).toBe("png");
    expect((await render("formats/animated-greenmeadow-6-frames-320x256.gif", { w: 100 })).format).toBe("gif");
  });

  it("turns TIFF into JPEG and SVG (alpha) into PNG", async () => {
    const tiff = await render("formats/ladybird-800x500-lzw.tif", { w: 200 });
    expect([tiff.format, tiff.contentType, tiff.width, tiff.height]).toEqual(["jpeg", "image/jpeg", 200, 125]);
    const svg = await render("formats/debian-logo.svg", {});
    expect([svg.format, svg.width, svg.height]).toEqual(["png", 128, 128]);
    expect((await sharp(svg.data).metadata()).hasAlpha).toBe(true);
  });

  it("rasterises a hostile SVG to plain pixels", async () => {
    const out = await render("hostile/svg-with-script.svg", { fmt: "png" });
    expect([out.format, out.width, out.height]).toEqual(["png", 200, 200]);
    expect(out.data.includes(Buffer.from("script"))).toBe(false);
  });

  it("an SVG cannot pull in files next to it, even when its sniffed type is wrong", async () => {
    // librsvg resolves hrefs relative to an SVG *file*; next to a blob lie other users' blobs.
    const dir = await mkdtemp(join(tmpdir(), "assetd-svg-"));
    try {
      await sharp({ create: { width: 10, height: 10, channels: 3, background: "#ff0000" } }).png().toFile(join(dir, "secret.png"));
      const svg = join(dir, "evil.svg");
      await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ' +
        'width="10" height="10"><image href="secret.png" xlink:href="secret.png" width="10" height="10"/></svg>');
      // Control: libvips given the path does read the neighbour.
      expect((await pixelAt(await sharp(svg).png().toBuffer(), 5, 5))[0]).toBe(255);
      for (const contentType of ["image/svg+xml", "image/png"]) {
        const out = await engine.render({ path: svg, read: () => readFile(svg), contentType },
          { fmt: "png" }, LIMITS);
        expect(await pixelAt(out.data, 5, 5), contentType).toEqual([0, 0, 0, 0]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("jpeg-or-png picks PNG for alpha sources and JPEG otherwise", async () => {
    expect((await render("formats/alpha-debian-emblem-256x256.png", { fmt: "jpeg-or-png" })).format).toBe("png");
    expect((await render("formats/palette-trns-debian-logo-256x256.png", { fmt: "jpeg-or-png" })).format).toBe("png");
    expect((await render("formats/lossy-freshflower-800x602.webp", { fmt: "jpeg-or-png" })).format).toBe("jpeg");
    expect((await render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 100, fmt: "jpeg-or-png" })).format).toBe("jpeg");
  });

  it("encodes AVIF with the configured effort, and q changes the size", async () => {
    const avif = await render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 320, fmt: "avif" });
    expect([avif.format, avif.contentType]).toEqual(["avif", "image/avif"]);
    expect((await sharp(avif.data).metadata()).compression).toBe("av1");
    const low = await render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 320, fmt: "jpeg", q: 30 });
    const high = await render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 320, fmt: "jpeg", q: 95 });
    expect(low.data.length).toBeLessThan(high.data.length * 0.6);
  });

  it("reads from a Buffer as well as from a path", async () => {
    const viaPath = await render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 200, fmt: "png" });
    const viaBuffer = await engine.render(fixtureSource("photos/canon-eos-400d-storm-1920x1280.jpg", { via: "buffer" }),
      { w: 200, fmt: "png" }, LIMITS);
    expect(viaBuffer.data.equals(viaPath.data)).toBe(true);
  });
});

describe("alpha", () => {
  it("alpha PNG to JPEG is flattened on white, never black", async () => {
    const out = await render("formats/alpha-debian-emblem-256x256.png", { fmt: "jpeg" });
    const [r, g, b] = await pixelAt(out.data, 0, 0);
    expect(Math.min(r, g, b)).toBeGreaterThan(245);
  });

  it("bg chooses the flattening colour", async () => {
    const out = await render("formats/alpha-debian-emblem-256x256.png", { fmt: "jpeg", bg: "ff0000" });
    const [r, g, b] = await pixelAt(out.data, 0, 0);
    expect(r).toBeGreaterThan(230);
    expect(Math.max(g, b)).toBeLessThan(30);
  });

  it("alpha survives into PNG and WebP, and contain pads transparently there", async () => {
    for (const fmt of ["png", "webp"] as const) {
      const out = await render("formats/alpha-debian-emblem-256x256.png", { w: 128, fmt });
      expect((await pixelAt(out.data, 0, 0))[3], fmt).toBe(0);
    }
    const padded = await render("formats/alpha-debian-emblem-256x256.png", { w: 200, h: 100, fit: "contain", fmt: "png" });
    expect([padded.width, padded.height]).toEqual([200, 100]);
    expect((await pixelAt(padded.data, 2, 50))[3]).toBe(0);
  });
});

describe("animation and pages", () => {
  const gif = "formats/animated-greenmeadow-6-frames-320x256.gif";

  it("GIF to WebP keeps all 6 frames, and GIF to GIF too", async () => {
    for (const fmt of ["webp", "gif"] as const) {
      const out = await render(gif, { w: 160, fmt });
      expect([out.format, out.width, out.height]).toEqual([fmt, 160, 128]);
      const meta = await sharp(out.data).metadata();
      expect(meta.pages, fmt).toBe(6);
      expect(meta.pageHeight ?? meta.height).toBe(128);
    }
  });

  it("an animated WebP stays animated", async () => {
    const out = await render("formats/animated-greenmeadow-6-frames-320x256.webp", { w: 100 });
    expect((await sharp(out.data).metadata()).pages).toBe(6);
  });

  it("AVIF, JPEG and PNG get the first frame", async () => {
    const first = await sharp(fixturePath(gif)).resize(160).png().toBuffer();
    for (const fmt of ["avif", "jpeg", "png"] as const) {
      const out = await render(gif, { w: 160, fmt });
      expect([out.width, out.height], fmt).toEqual([160, 128]);
      const meta = await sharp(out.data).metadata();
      expect(meta.pages ?? 1, fmt).toBe(1);
      expect((await compare(out.data, first)).mad, fmt).toBeLessThan(8);
    }
  });

  it("operations libvips cannot apply per frame make a still instead of failing", async () => {
    for (const recipe of [{ rotate: 90 }, { flip: true }, { w: 100, h: 100, pos: "attention" }] as Recipe[]) {
      const out = await render(gif, { ...recipe, fmt: "webp" });
      expect((await sharp(out.data).metadata()).pages ?? 1, JSON.stringify(recipe)).toBe(1);
    }
  });

  it("page picks a frame of an animation and a page of a multi-page TIFF", async () => {
    const frame3 = await render(gif, { page: 3, fmt: "png" });
    const reference = await sharp(fixturePath(gif), { page: 2 }).png().toBuffer();
    expect((await compare(frame3.data, reference)).mad).toBeLessThan(1);

    const tiff = await threePageTiff();
    const second = await engine.render(bufferSource(tiff, "image/tiff"), { page: 2, fmt: "png" }, LIMITS);
    const [r, g, b] = await pixelAt(second.data, 5, 5);
    expect(r).toBeLessThan(5);
    expect(g).toBeGreaterThan(250);
    expect(b).toBeLessThan(5);
    const missing = await appErrorOf(engine.render(bufferSource(tiff, "image/tiff"), { page: 4 }, LIMITS));
    expect([missing.code, missing.details.parameter]).toEqual(["invalid_parameter", "page"]);
  });
});

describe("limits and bad input", () => {
  it("refuses the 20000x20000 bomb from its header: fast, without decoding", async () => {
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const error = await appErrorOf(render("hostile/bomb-20000x20000.png", { w: 100 }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.code).toBe("pixel_limit_exceeded");
    expect(error.status).toBe(422);
    expect(error.details).toEqual({ width: 20000, height: 20000, limit: 100_000_000 });
    // Decoding would need 400 MB even as 1 byte per pixel.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("applies the input limit to each frame's real size", async () => {
    const error = await appErrorOf(render("photos/canon-eos-400d-storm-1920x1280.jpg", { w: 100 },
      { maxInputPixels: 1920 * 1280 - 1, maxOutputPixels: LIMITS.maxOutputPixels }));
    expect(error.code).toBe("pixel_limit_exceeded");
  });

  it("refuses an output over the limit before rendering", async () => {
    const limits = { maxInputPixels: LIMITS.maxInputPixels, maxOutputPixels: 1_000_000 };
    const error = await appErrorOf(render("orientation/orientation-expected.jpg", { w: 2000, enlarge: true }, limits));
    expect(error.code).toBe("output_too_large");
    expect(error.details).toMatchObject({ width: 2000, height: 1500, limit: 1_000_000 });
    // A side the encoder cannot write (WebP stops at 16383) is refused the same way.
    const strip = await sharp({ create: { width: 17_000, height: 4, channels: 3, background: "#808080" } }).png().toBuffer();
    const wide = await appErrorOf(engine.render(bufferSource(strip, "image/png"), { fmt: "webp" }, LIMITS));
    expect(wide.code).toBe("output_too_large");
    expect(wide.details).toMatchObject({ width: 17_000, format: "webp", maxSide: 16_383 });
    expect((await engine.render(bufferSource(strip, "image/png"), { fmt: "png" }, LIMITS)).width).toBe(17_000);
  });

  it("a truncated JPEG is undecodable_media, never a half-grey image", async () => {
    for (const via of ["path", "buffer"] as const) {
      const error = await appErrorOf(engine.render(fixtureSource("hostile/truncated-40pct-raindrops.jpg", { via }), { w: 300 }, LIMITS));
      expect(error.code).toBe("undecodable_media");
      expect(error.message).not.toContain("/");
      expect(String((error.cause as Error).message)).toMatch(/premature end/i);
    }
  });

  it("empty, text and HTML bytes are undecodable_media", async () => {
    for (const fixture of ["hostile/empty.jpg", "hostile/eicar.txt", "hostile/really-html.png"]) {
      const error = await appErrorOf(engine.render(fixtureSource(fixture, { contentType: "image/jpeg" }), {}, LIMITS));
      expect(error.code, fixture).toBe("undecodable_media");
    }
  });

  it("HEIC is transform_unsupported, by sniffed type and by header", async () => {
    const byType = await appErrorOf(render("formats/olympus-darkesthour-1024x640.heic", { w: 100 }));
    expect(byType.code).toBe("transform_unsupported");
    const byHeader = await appErrorOf(engine.render(fixtureSource("formats/olympus-darkesthour-1024x640.heic",
      { contentType: "image/avif" }), { w: 100 }, LIMITS));
    expect(byHeader.code).toBe("transform_unsupported");
  });
});
