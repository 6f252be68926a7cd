import { describe, expect, it } from "vitest";
import { chooseDerivation, DEFAULT_LADDER, factsFromMeta, graphProcessorVersion, ladderVersion, outputFormatFor, rungCacheKey } from "./ladder.js";
import { canonicalRecipe, parseTransform, type Recipe } from "./recipe.js";

const photo = { width: 5472, height: 3648, format: "jpeg", hasAlpha: false, frames: 1 };
const recipe = (query: Record<string, string>): Recipe => parseTransform(query).recipe;
const rungFor = (query: Record<string, string>, source = photo) => chooseDerivation(recipe(query), source, DEFAULT_LADDER)?.rung;

describe("choosing a rung of the intermediate ladder", () => {
  it("takes the smallest rung at least three times the output's resolution", () => {
    expect(rungFor({ w: "300" })).toBe(1024); // needs 900 px on the long side
    expect(rungFor({ w: "170" })).toBe(512);
    expect(rungFor({ w: "171" })).toBe(1024);
    expect(rungFor({ w: "682" })).toBe(2048); // needs 2046
    expect(rungFor({ w: "683" })).toBeUndefined(); // needs 2049: above the largest rung
    expect(rungFor({ w: "1200" })).toBeUndefined();
    expect(rungFor({ h: "200" })).toBe(1024); // 200/3648 of 5472 = 300, x3 = 900
  });

  it("measures the resolution each fit keeps", () => {
    // cover keeps the larger scale (the box is filled), inside the smaller.
    expect(rungFor({ w: "100", h: "100" })).toBe(512); // cover: 100/3648 -> 150 px long side
    expect(rungFor({ w: "1000", h: "100", fit: "contain" })).toBe(512); // 100/3648 binds
    expect(rungFor({ w: "1000", h: "100", fit: "inside" })).toBeUndefined(); // measured less faithful: from the original
    expect(rungFor({ w: "1000", h: "100", fit: "cover" })).toBeUndefined(); // needs 4500
    expect(rungFor({ w: "1000", h: "100", fit: "fill" })).toBeUndefined();
  });

  it("renders from the original when no rung is both large enough and smaller than the source", () => {
    expect(rungFor({ w: "600" })).toBe(2048);
    expect(rungFor({ w: "1400" })).toBeUndefined(); // needs 4200: no rung that large
    expect(rungFor({ w: "300" }, { ...photo, width: 3088, height: 2056 })).toBeUndefined(); // under the 8 MP threshold
    expect(rungFor({ fmt: "webp" })).toBeUndefined(); // no resize: nothing to save
    expect(chooseDerivation(recipe({ w: "300" }), photo, undefined)).toBeUndefined(); // graph off
  });

  it("never derives what a rung would change", () => {
    expect(rungFor({ w: "300", strip: "0" })).toBeUndefined();
    expect(rungFor({ w: "300", page: "1" })).toBeUndefined();
    expect(rungFor({ w: "300", h: "300", pos: "entropy" })).toBeUndefined();
    expect(rungFor({ w: "300", h: "300", pos: "attention" })).toBeUndefined();
    expect(rungFor({ w: "300" }, { ...photo, frames: 6, format: "webp" })).toBeUndefined();
    expect(rungFor({ w: "300" }, { ...photo, format: "svg" })).toBeUndefined();
    expect(rungFor({ w: "300" }, { ...photo, format: "gif" })).toBeUndefined();
    // Crop counts source pixels; trim, tone and byte budgets have not been shown equivalent: from the original.
    for (const extra of [{ crop: "0,0,4000,3000" }, { trim: "1" }, { brightness: "1.2" }, { contrast: "0.8" }, { saturation: "0" }, { max_bytes: "20000" }]) {
      expect(rungFor({ w: "300", ...extra }), JSON.stringify(extra)).toBeUndefined();
    }
    // A parameter the rule does not know renders from the original.
    expect(chooseDerivation({ ...recipe({ w: "300" }), crop: "1,2,3,4" } as Recipe, photo, DEFAULT_LADDER)).toBeUndefined();
  });

  it("derives rotations, flips, blur, background and gravity crops (applied after the resize), not sharpening", () => {
    expect(rungFor({ w: "300", rotate: "90", flip: "1", flop: "1", blur: "2", bg: "ff0000" })).toBe(1024);
    expect(rungFor({ w: "300", sharpen: "1" })).toBeUndefined();
    expect(rungFor({ w: "300", h: "200", pos: "right top" })).toBe(1024);
  });
});

describe("the derived recipe", () => {
  const derived = (query: Record<string, string>, source = photo) => canonicalRecipe(chooseDerivation(recipe(query), source, DEFAULT_LADDER)!.recipe);

  it("fixes the size the original would give, since the rung's aspect ratio is rounded", () => {
    expect(derived({ w: "300" })).toBe("w=300&h=200&fit=fill&fmt=jpeg");
    expect(derived({ h: "201", fmt: "webp" })).toBe("w=302&h=201&fit=fill&fmt=webp");
    expect(derived({ w: "300", h: "100", fit: "outside" })).toBe("w=300&h=200&fit=fill&fmt=jpeg");
  });

  it("keeps boxes that are exact already (cover, contain, fill)", () => {
    expect(derived({ w: "300", h: "300", pos: "top" })).toBe("w=300&h=300&pos=north&fmt=jpeg");
    expect(derived({ w: "300", h: "300", fit: "contain", bg: "000" })).toBe("w=300&h=300&fit=contain&bg=000000&fmt=jpeg");
  });

  it("keeps the format the original would have given", () => {
    expect(outputFormatFor({}, { format: "webp", hasAlpha: true })).toBe("webp");
    expect(outputFormatFor({}, { format: "tiff", hasAlpha: true })).toBe("png");
    expect(outputFormatFor({}, { format: "tiff", hasAlpha: false })).toBe("jpeg");
    expect(outputFormatFor({ fmt: "jpeg-or-png" }, { format: "webp", hasAlpha: true })).toBe("png");
    expect(outputFormatFor({ fmt: "avif" }, { format: "png", hasAlpha: true })).toBe("avif");
  });
});

describe("keys and versions", () => {
  it("puts the policy in the processor version, so changing it changes every key", () => {
    expect(ladderVersion(undefined)).toBe("l0");
    expect(graphProcessorVersion("p2", DEFAULT_LADDER)).not.toBe(graphProcessorVersion("p2", undefined));
    expect(graphProcessorVersion("p2", { ...DEFAULT_LADDER, rungs: [1024] })).not.toBe(graphProcessorVersion("p2", DEFAULT_LADDER));
  });

  it("gives each rung of each content its own key", () => {
    const a = rungCacheKey("abc", 1024, "v");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(rungCacheKey("abc", 2048, "v")).not.toBe(a);
    expect(rungCacheKey("abd", 1024, "v")).not.toBe(a);
  });

  it("reads the facts extraction stored", () => {
    expect(factsFromMeta({ width: 10, height: 5, format: "gif", animated: true, frames: 6 })).toEqual({ width: 10, height: 5, format: "gif", hasAlpha: false, frames: 6 });
    expect(factsFromMeta({ width: 10 })).toBeUndefined();
    expect(factsFromMeta(null)).toBeUndefined();
  });
});
