import { readdirSync, readFileSync } from "node:fs";
import { isBlurhashValid } from "blurhash";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { phashDistance } from "../../src/domain/phash.js";
import { createSharpEngine } from "../../src/media/image/engine.js";
import type { AssetMeta } from "../../src/ports/repos.js";
import { bufferSource, fixturePath, fixtureSource, LIMITS } from "./fixtures.js";

const engine = createSharpEngine();
const describeFixture = (fixture: string) => engine.describe(fixtureSource(fixture), LIMITS);
const describeJpeg = (data: Buffer) => engine.describe(bufferSource(data, "image/jpeg"), LIMITS);
const phashOf = (meta: AssetMeta) => meta.phash as string;

/** Half the size, JPEG quality 60: the kind of copy a near-duplicate search must find. */
async function reencode(data: Buffer): Promise<Buffer> {
  const { width } = await sharp(data).autoOrient().metadata();
  return sharp(data).autoOrient().resize(Math.round(width / 2)).jpeg({ quality: 60 }).toBuffer();
}

const PHOTOS = readdirSync(fixturePath("photos")).filter((name) => name.endsWith(".jpg")).sort();

describe("describe(): pixel fingerprints of the photo fixtures", () => {
  const originals = new Map<string, AssetMeta>();
  const copies = new Map<string, AssetMeta>();

  beforeAll(async () => {
    for (const name of PHOTOS) {
      const data = readFileSync(fixturePath(`photos/${name}`));
      originals.set(name, await describeJpeg(data));
      copies.set(name, await describeJpeg(await reencode(data)));
    }
  });

  it("has a blurhash, a dominant colour and a 64-bit phash for every photo", () => {
    expect(PHOTOS.length).toBeGreaterThanOrEqual(4);
    for (const [name, meta] of originals) {
      expect(isBlurhashValid(meta.blurhash as string).result, name).toBe(true);
      expect(meta.dominantColor, name).toMatch(/^#[0-9a-f]{6}$/);
      expect(meta.phash, name).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it("keeps a photo and its 50 % JPEG q=60 copy within 6 bits", () => {
    for (const name of PHOTOS) {
      expect(phashDistance(phashOf(originals.get(name)!), phashOf(copies.get(name)!)), name).toBeLessThanOrEqual(6);
    }
  });

  it("puts different photos more than 16 bits apart", () => {
    for (let i = 0; i < PHOTOS.length; i++) {
      for (let j = i + 1; j < PHOTOS.length; j++) {
        const [a, b] = [PHOTOS[i]!, PHOTOS[j]!];
        expect(phashDistance(phashOf(originals.get(a)!), phashOf(originals.get(b)!)), `${a} vs ${b}`).toBeGreaterThan(16);
      }
    }
  });

  it("gives the copy the same dominant colour, give or take a few levels", () => {
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    for (const name of PHOTOS) {
      const a = rgb(originals.get(name)!.dominantColor as string);
      const b = rgb(copies.get(name)!.dominantColor as string);
      for (let c = 0; c < 3; c++) expect(Math.abs(a[c]! - b[c]!), name).toBeLessThanOrEqual(12);
    }
  });
});

describe("describe(): fingerprints follow what is displayed", () => {
  it("applies EXIF orientation first: all eight orientations hash like the upright image", async () => {
    const upright = phashOf(await describeFixture("orientation/orientation-expected.jpg"));
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) {
      expect(phashDistance(phashOf(await describeFixture(`orientation/orientation-${n}.jpg`)), upright), `orientation ${n}`)
        .toBeLessThanOrEqual(4);
    }
  });

  it("takes the visually dominant colour, not the mean", async () => {
    // Three quarters red, a quarter blue: the mean would be a purple that appears nowhere.
    const image = await sharp({ create: { width: 400, height: 300, channels: 3, background: "#d01010" } })
      .composite([{ input: { create: { width: 100, height: 300, channels: 3, background: "#1010d0" } }, left: 300, top: 0 }])
      .png().toBuffer();
    expect((await engine.describe(bufferSource(image, "image/png"), LIMITS)).dominantColor).toBe("#d01010");
  });

  it("fingerprints an animation by its first frame", async () => {
    const meta = await describeFixture("formats/animated-greenmeadow-6-frames-320x256.gif");
    const firstFrame = await sharp(fixturePath("formats/animated-greenmeadow-6-frames-320x256.gif")).png().toBuffer();
    const still = await engine.describe(bufferSource(firstFrame, "image/png"), LIMITS);
    expect(phashDistance(phashOf(meta), phashOf(still))).toBeLessThanOrEqual(2);
    expect(meta.dominantColor).toBe(still.dominantColor);
  });

  it("reads grey, CMYK, 16-bit, palette+alpha, SVG, TIFF, WebP and AVIF sources", async () => {
    for (const fixture of [
      "photos/grayscale-grey-2560x1600.jpg", "photos/cmyk-fig-1200x812.jpg", "formats/16bit-yellowflower-480x300.png",
      "formats/palette-trns-debian-logo-256x256.png", "formats/alpha-debian-emblem-256x256.png", "formats/debian-logo.svg",
      "formats/ladybird-800x500-lzw.tif", "formats/lossy-freshflower-800x602.webp", "formats/aqua-800x500.avif",
    ]) {
      const meta = await describeFixture(fixture);
      expect(isBlurhashValid(meta.blurhash as string).result, fixture).toBe(true);
      expect(meta.dominantColor, fixture).toMatch(/^#[0-9a-f]{6}$/);
      expect(meta.phash, fixture).toMatch(/^[0-9a-f]{16}$/);
    }
    // Grey stays grey; the CMYK fig is not inverted (its grey concrete dominates, not neon).
    const grey = (await describeFixture("photos/grayscale-grey-2560x1600.jpg")).dominantColor as string;
    expect(grey.slice(1, 3)).toBe(grey.slice(3, 5));
    expect(grey.slice(3, 5)).toBe(grey.slice(5, 7));
  });

  it("a 16-bit PNG hashes like its 8-bit JPEG copy", async () => {
    const png = fixturePath("formats/16bit-yellowflower-480x300.png");
    const jpeg = await sharp(png).jpeg({ quality: 80 }).toBuffer();
    const a = await describeFixture("formats/16bit-yellowflower-480x300.png");
    const b = await describeJpeg(jpeg);
    expect(phashDistance(phashOf(a), phashOf(b))).toBeLessThanOrEqual(4);
  });

  it("has no fingerprints for an image over the pixel limit (never decoded)", async () => {
    const meta = await describeFixture("hostile/bomb-20000x20000.png");
    expect(meta.overPixelLimit).toBe(true);
    expect(meta).not.toHaveProperty("phash");
    expect(meta).not.toHaveProperty("blurhash");
    expect(meta).not.toHaveProperty("dominantColor");
  });
});
