import { describe, expect, it } from "vitest";
import { AppError } from "../../domain/errors.js";
import type { Recipe } from "../../domain/recipe.js";
import type { ImageHeader } from "./header.js";
import { pageIndexOf, planRender } from "./plan.js";

const LIMITS = { maxInputPixels: 100_000_000, maxOutputPixels: 50_000_000 };
const OPTIONS = { avifEffort: 3 };

function header(overrides: Partial<ImageHeader> = {}): ImageHeader {
  const width = overrides.width ?? 640;
  const height = overrides.height ?? 480;
  return {
    format: "jpeg", width, height, displayWidth: width, displayHeight: height, orientation: 1, pages: 1,
    hasAlpha: false, hasProfile: false, space: "srgb", channels: 3, depth: "uchar", ...overrides,
  };
}

const plan = (recipe: Recipe, h: Partial<ImageHeader> = {}, limits = LIMITS) => planRender(header(h), recipe, limits, OPTIONS);

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (e) {
    return e instanceof AppError ? e.code : "not an AppError";
  }
}

describe("planRender: limits", () => {
  it("refuses a frame over the input limit, naming the size", () => {
    try {
      plan({}, { width: 20_000, height: 20_000 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).details).toEqual({ width: 20_000, height: 20_000, limit: 100_000_000 });
    }
  });

  it("refuses an output over the output limit, or wider than the encoder allows", () => {
    expect(codeOf(() => plan({ w: 8000, enlarge: true }, {}, { ...LIMITS, maxOutputPixels: 10_000_000 }))).toBe("output_too_large");
    expect(codeOf(() => plan({ fmt: "webp" }, { width: 17_000, height: 10 }))).toBe("output_too_large");
    expect(codeOf(() => plan({ fmt: "png" }, { width: 17_000, height: 10 }))).toBeUndefined();
  });

  it("checks page numbers against the source", () => {
    expect(pageIndexOf({}, { pages: 3 })).toBe(0);
    expect(pageIndexOf({ page: 3 }, { pages: 3 })).toBe(2);
    expect(codeOf(() => pageIndexOf({ page: 4 }, { pages: 3 }))).toBe("invalid_parameter");
  });

  it("plans with the displayed (oriented) size and swaps it for rotate 90/270", () => {
    const sideways = { width: 480, height: 640, displayWidth: 640, displayHeight: 480, orientation: 6 };
    expect(plan({ w: 320 }, sideways).size).toEqual({ width: 320, height: 240 });
    expect(plan({ w: 320, rotate: 90 }, sideways).size).toEqual({ width: 240, height: 320 });
    expect(plan({ w: 320, rotate: 180 }, sideways).size).toEqual({ width: 320, height: 240 });
  });
});

describe("planRender: animation", () => {
  const gif = { format: "gif" as const, width: 320, height: 256, pages: 6, hasAlpha: true };

  it("keeps every frame for GIF and WebP output", () => {
    for (const fmt of ["gif", "webp"] as const) {
      const p = plan({ w: 100, fmt }, gif);
      expect([p.load.animated, p.frames, p.load.limitInputPixels]).toEqual([true, 6, 600_000_000]);
    }
  });

  it("uses the first frame for other formats, a chosen page, or per-frame-unsafe operations", () => {
    for (const recipe of [{ fmt: "avif" }, { fmt: "jpeg" }, { fmt: "webp", page: 2 }, { fmt: "webp", rotate: 90 },
      { fmt: "webp", rotate: 180 }, { fmt: "webp", flip: true }, { fmt: "webp", w: 9, h: 9, pos: "entropy" }] as Recipe[]) {
      const p = plan(recipe, gif);
      expect([p.load.animated, p.frames], JSON.stringify(recipe)).toEqual([false, 1]);
    }
    expect(plan({ fmt: "webp", page: 2 }, gif).load.pageIndex).toBe(1);
    expect(plan({ fmt: "webp", flop: true }, gif).load.animated).toBe(true);
  });

  it("makes a still when all frames together exceed a limit", () => {
    expect(plan({ fmt: "webp" }, gif, { maxInputPixels: 320 * 256 * 5, maxOutputPixels: 1e9 }).load.animated).toBe(false);
    expect(plan({ fmt: "webp" }, gif, { maxInputPixels: 1e9, maxOutputPixels: 320 * 256 * 5 }).load.animated).toBe(false);
  });
});

describe("planRender: alpha and background", () => {
  const alpha = { format: "png" as const, hasAlpha: true, channels: 4 };
  const white = { r: 255, g: 255, b: 255, alpha: 1 };

  it("flattens alpha on white for JPEG, and on bg when given", () => {
    expect(plan({ fmt: "jpeg" }, alpha).flatten).toEqual(white);
    expect(plan({ fmt: "jpeg", bg: "ff000080" }, alpha).flatten).toEqual({ r: 255, g: 0, b: 0, alpha: 1 });
  });

  it("keeps alpha for formats with alpha unless an opaque bg asks to flatten", () => {
    expect(plan({ fmt: "png" }, alpha).flatten).toBeUndefined();
    expect(plan({ fmt: "webp", bg: "00ff00" }, alpha).flatten).toEqual({ r: 0, g: 255, b: 0, alpha: 1 });
    expect(plan({ fmt: "webp", bg: "00ff0080" }, alpha).flatten).toBeUndefined();
    expect(plan({ fmt: "png" }).flatten).toBeUndefined();
  });

  it("pads contain transparently only where alpha survives, else white or bg", () => {
    const box = { w: 100, h: 100, fit: "contain" as const };
    expect(plan({ ...box, fmt: "png" }, alpha).resize?.background).toEqual({ r: 0, g: 0, b: 0, alpha: 0 });
    expect(plan({ ...box, fmt: "jpeg" }, alpha).resize?.background).toEqual(white);
    expect(plan({ ...box, fmt: "webp" }).resize?.background).toEqual(white);
    expect(plan({ ...box, fmt: "jpeg", bg: "11223380" }).resize?.background).toEqual({ r: 17, g: 34, b: 51, alpha: 1 });
  });

  it("resizes inside with one side, cover by default with two", () => {
    expect(plan({ w: 100 }).resize).toMatchObject({ width: 100, fit: "inside", position: "center", withoutEnlargement: true });
    expect(plan({ w: 100, h: 50 }).resize).toMatchObject({ fit: "cover" });
    expect(plan({ w: 100, h: 50, pos: "attention", enlarge: true }).resize)
      .toMatchObject({ position: "attention", withoutEnlargement: false });
    expect(plan({}).resize).toBeUndefined();
  });
});

describe("planRender: colour and output", () => {
  const rgbIcc = iccWithSpace("RGB ");
  const cmykIcc = iccWithSpace("CMYK");

  it("relies on sharp's own sRGB conversion except for 16-bit input with a profile", () => {
    expect(plan({}, { hasProfile: true, icc: rgbIcc }).colour).toEqual({});
    expect(plan({}, { hasProfile: true, icc: rgbIcc, space: "rgb16", depth: "ushort" }).colour).toEqual({ toSrgb: { attach: false } });
    expect(plan({}, { space: "rgb16", depth: "ushort" }).colour).toEqual({});
  });

  it("strip=false keeps an RGB profile but converts away from CMYK/grey profiles", () => {
    expect(plan({ strip: false }, { hasProfile: true, icc: rgbIcc }).colour).toEqual({});
    expect(plan({ strip: false }, { hasProfile: true, icc: cmykIcc, space: "cmyk", channels: 4 }).colour)
      .toEqual({ toSrgb: { attach: true } });
    expect(plan({ strip: false }).output.keepMetadata).toBe(true);
    expect(plan({}).output.keepMetadata).toBe(false);
  });

  it("uses q or the per-format default, and the configured AVIF effort", () => {
    expect(plan({ fmt: "jpeg" }).output.quality).toBe(80);
    expect(plan({ fmt: "webp" }).output.quality).toBe(80);
    expect(plan({ fmt: "avif" }).output).toMatchObject({ quality: 50, avifEffort: 3 });
    expect(plan({ fmt: "avif", q: 70 }).output.quality).toBe(70);
  });
});

function iccWithSpace(space: string): Buffer {
  const icc = Buffer.alloc(132);
  icc.write(space, 16, "latin1");
  icc.write("acsp", 36, "latin1");
  return icc;
}
