import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import { createSharpEngine } from "../../src/media/image/engine.js";
import { bufferSource, fixtureSource, LIMITS, threePageTiff } from "./fixtures.js";

const engine = createSharpEngine();
const describeFixture = (fixture: string, opts: { via?: "path" | "buffer"; contentType?: string } = {}) =>
  engine.describe(fixtureSource(fixture, opts), LIMITS);

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("describe(): camera facts", () => {
  it("reads the Canon's EXIF subset, without GPS", async () => {
    const meta = await describeFixture("photos/canon-eos-400d-storm-1920x1280.jpg");
    expect(meta).toMatchObject({ width: 1920, height: 1280, format: "jpeg", orientation: 1, hasAlpha: false, animated: false,
      space: "srgb", channels: 3, bitDepth: 8 });
    expect(meta.exif).toEqual({
      make: "Canon", model: "Canon EOS 400D DIGITAL", exposureTime: 0.4, fNumber: 3.5, iso: 100, focalLength: 18,
      takenAt: "2008-04-20T19:12:06",
    });
    expect(meta.iccDescription).toBeUndefined();
  });

  it("reports the Nokia's GPS position (the service hides it from non-owners)", async () => {
    const meta = await describeFixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg");
    const exif = meta.exif as { make: string; model: string; gps: { latitude: number; longitude: number; altitude: number } };
    expect([exif.make, exif.model]).toEqual(["Nokia", "N9"]);
    expect(exif.gps.latitude).toBeCloseTo(60.16952, 5);
    expect(exif.gps.longitude).toBeCloseTo(24.93545, 5);
    expect(exif.gps.altitude).toBeCloseTo(12, 1);
  });

  it("names the ICC profiles: sRGB, Adobe RGB, CMYK SWOP", async () => {
    expect((await describeFixture("photos/olympus-e-m1-kite-2560x1600.jpg")).iccDescription).toBe("sRGB IEC61966-2.1");
    expect((await describeFixture("photos/adobergb-olympus-path-1600x1000.jpg")).iccDescription)
      .toBe("Compatible with Adobe RGB (1998)");
    const cmyk = await describeFixture("photos/cmyk-fig-1200x812.jpg");
    expect(cmyk).toMatchObject({ iccDescription: "Artifex CMYK SWOP Profile", space: "cmyk", channels: 4 });
  });

  it("names a v4 (mluc) profile too", async () => {
    const tagged = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#336699" } })
      .withIccProfile("p3").png().toBuffer();
    expect((await engine.describe(bufferSource(tagged, "image/png"), LIMITS)).iccDescription).toMatch(/P3/);
  });
});

describe("describe(): geometry and formats", () => {
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`orientation ${n} is displayed 640x480`, async () => {
      const meta = await describeFixture(`orientation/orientation-${n}.jpg`);
      expect([meta.width, meta.height, meta.orientation]).toEqual([640, 480, n]);
    });
  }

  it("orientation is 1 when the file has no tag", async () => {
    expect((await describeFixture("photos/portrait-friends-2056x3088.jpg")).orientation).toBe(1);
  });

  it("counts the frames of animations", async () => {
    for (const fixture of ["formats/animated-greenmeadow-6-frames-320x256.gif", "formats/animated-greenmeadow-6-frames-320x256.webp"]) {
      expect(await describeFixture(fixture), fixture).toMatchObject({ width: 320, height: 256, animated: true, frames: 6 });
    }
  });

  it("counts the pages of a multi-page TIFF", async () => {
    const tiff = await threePageTiff();
    expect(await engine.describe(bufferSource(tiff, "image/tiff"), LIMITS))
      .toMatchObject({ format: "tiff", width: 40, height: 30, animated: false, pages: 3 });
  });

  it("reports bit depth, alpha and format", async () => {
    expect(await describeFixture("formats/16bit-yellowflower-480x300.png")).toMatchObject({ bitDepth: 16, space: "rgb16" });
    expect(await describeFixture("formats/palette-trns-debian-logo-256x256.png")).toMatchObject({ hasAlpha: true, bitDepth: 8 });
    expect(await describeFixture("formats/aqua-800x500.avif")).toMatchObject({ format: "avif", width: 800, height: 500 });
    expect(await describeFixture("formats/debian-logo.svg")).toMatchObject({ format: "svg", width: 128, height: 128, hasAlpha: true });
    expect(await describeFixture("formats/ladybird-800x500-lzw.tif")).toMatchObject({ format: "tiff", width: 800, height: 500 });
    expect(await describeFixture("hostile/polyglot-jpeg-html.jpg")).toMatchObject({ format: "jpeg", width: 400, height: 250 });
  });

  it("gives the same facts from a path and from a Buffer", async () => {
    const a = await describeFixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg");
    const b = await describeFixture("photos/nokia-n9-gps-bythewater-2560x1600.jpg", { via: "buffer" });
    expect(b).toEqual(a);
  });
});

describe("describe(): limits and bad input", () => {
  it("reports the bomb's header facts with overPixelLimit, without decoding", async () => {
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const meta = await describeFixture("hostile/bomb-20000x20000.png");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(meta).toMatchObject({ width: 20000, height: 20000, format: "png", overPixelLimit: true });
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("proves the pixels decode: the truncated JPEG fails although its header is fine", async () => {
    for (const via of ["path", "buffer"] as const) {
      const error = await appErrorOf(describeFixture("hostile/truncated-40pct-raindrops.jpg", { via }));
      expect(error.code).toBe("undecodable_media");
      expect(error.status).toBe(422);
    }
  });

  it("empty and non-image bytes are undecodable_media", async () => {
    for (const fixture of ["hostile/empty.jpg", "hostile/eicar.txt", "hostile/really-html.png"]) {
      const error = await appErrorOf(describeFixture(fixture, { contentType: "image/png" }));
      expect(error.code, fixture).toBe("undecodable_media");
    }
  });

  it("HEIC is transform_unsupported (it goes through libheif, not this engine)", async () => {
    expect((await appErrorOf(describeFixture("formats/olympus-darkesthour-1024x640.heic"))).code).toBe("transform_unsupported");
    const byHeader = await appErrorOf(describeFixture("formats/olympus-darkesthour-1024x640.heic", { contentType: "image/avif" }));
    expect(byHeader.code).toBe("transform_unsupported");
  });
});
