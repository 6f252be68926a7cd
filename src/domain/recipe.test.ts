import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "./errors.js";
import { canonicalRecipe, negotiateFormat, parsePosition, parseTransform, variantCacheKey, withFormat } from "./recipe.js";

const canonical = (query: Record<string, string>, accept?: string) => {
  const request = parseTransform(query);
  return canonicalRecipe(withFormat(request, negotiateFormat(accept, { avif: true })));
};

describe("recipes", () => {
  it("drops defaults and orders keys so equivalent URLs share one recipe", () => {
    expect(canonical({ fmt: "webp", w: "300" })).toBe("w=300&fmt=webp");
    expect(canonical({ w: "300", fmt: "webp", fit: "cover", strip: "1", rotate: "0", enlarge: "0" })).toBe("w=300&fmt=webp");
    expect(canonical({ w: "300", h: "200", fit: "cover", pos: "center" })).toBe("w=300&h=200");
    expect(canonical({ w: "300", h: "200", fit: "inside" })).toBe("w=300&h=200&fit=inside");
    expect(canonical({ fmt: "jpg" })).toBe("fmt=jpeg");
  });

  it("applies dpr to the dimensions and clamps to the maximum", () => {
    expect(canonical({ w: "300", dpr: "2" })).toBe("w=600");
    expect(canonical({ w: "5000", dpr: "2" })).toBe("w=8192");
  });

  it("expands presets, explicit parameters winning", () => {
    expect(canonical({ preset: "thumb" }, "image/webp")).toBe("w=150&h=150&fmt=webp");
    expect(canonical({ preset: "small", fmt: "png" })).toBe("w=320&h=240&fit=inside&fmt=png");
  });

  it("keeps the anchor only where it matters", () => {
    expect(canonical({ w: "100", h: "100", pos: "right top" })).toBe("w=100&h=100&pos=northeast");
    expect(canonical({ w: "100", h: "100", pos: "top-right" })).toBe("w=100&h=100&pos=northeast");
    expect(canonical({ w: "100", pos: "attention" })).toBe("w=100");
    expect(canonical({ w: "100", h: "100", fit: "fill", pos: "top" })).toBe("w=100&h=100&fit=fill");
  });

  it.each([
    [{ w: "0" }, "w"], [{ w: "8193" }, "w"], [{ w: "12.5" }, "w"], [{ h: "abc" }, "h"], [{ fit: "crop" }, "fit"],
    [{ q: "101" }, "q"], [{ dpr: "5" }, "dpr"], [{ rotate: "45" }, "rotate"], [{ blur: "0.1" }, "blur"],
    [{ bg: "red" }, "bg"], [{ fmt: "bmp" }, "fmt"], [{ preset: "huge" }, "preset"], [{ zoom: "2" }, "zoom"],
    [{ pos: "middle" }, "pos"], [{ enlarge: "yes" }, "enlarge"], [{ page: "0" }, "page"],
  ])("rejects %o naming the parameter", (query, parameter) => {
    try {
      parseTransform(query);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidParameterError);
      expect((error as InvalidParameterError).details.parameter).toBe(parameter);
      expect((error as InvalidParameterError).status).toBe(400);
    }
  });

  it("rejects repeated parameters", () => {
    expect(() => parseTransform({ w: ["1", "2"] })).toThrow(InvalidParameterError);
  });

  it("normalises colours and positions", () => {
    expect(canonical({ bg: "#FFF" })).toBe("bg=ffffff");
    expect(parsePosition("left bottom")).toBe("southwest");
    expect(parsePosition("centre")).toBe("center");
  });

  it("derives different cache keys for different recipes, blobs and processor versions", () => {
    const sha = "a".repeat(64);
    const r = parseTransform({ w: "300" }).recipe;
    const key = variantCacheKey(sha, r, "p1");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(variantCacheKey(sha, r, "p1")).toBe(key);
    expect(variantCacheKey(sha, r, "p2")).not.toBe(key);
    expect(variantCacheKey("b".repeat(64), r, "p1")).not.toBe(key);
    expect(variantCacheKey(sha, parseTransform({ w: "301" }).recipe, "p1")).not.toBe(key);
  });
});

describe("fmt=auto negotiation", () => {
  it.each([
    ["image/avif,image/webp,*/*", "avif"],
    ["image/webp,*/*;q=0.8", "webp"],
    ["*/*", "jpeg-or-png"],
    ["image/*", "jpeg-or-png"],
    ["text/html,image/avif;q=0", "jpeg-or-png"],
    [undefined, "jpeg-or-png"],
  ])("Accept %s -> %s", (accept, expected) => {
    expect(negotiateFormat(accept, { avif: true })).toBe(expected);
  });

  it("can leave AVIF out", () => {
    expect(negotiateFormat("image/avif,image/webp", { avif: false })).toBe("webp");
  });
});

describe("configured presets", () => {
  it("accept query strings and objects, checked like requests", async () => {
    const { parsePresets, parseTransform } = await import("./recipe.js");
    const presets = parsePresets({ card: "w=400&h=300&fmt=webp", hero: { w: 1600, fit: "inside", enlarge: false } });
    expect(presets).toEqual({ card: { w: "400", h: "300", fmt: "webp" }, hero: { w: "1600", fit: "inside", enlarge: "0" } });
    expect(parseTransform({ preset: "card" }, presets).recipe).toMatchObject({ w: 400, h: 300 });
    expect(() => parseTransform({ preset: "thumb" }, presets)).toThrow(expect.objectContaining({ code: "invalid_parameter" }));
  });

  it("refuse bad names, unknown or out-of-range parameters and nesting", async () => {
    const { parsePresets } = await import("./recipe.js");
    for (const bad of [[], "w=1", { "Bad Name": "w=1" }, { a: "w=0" }, { a: "size=3" }, { a: "preset=b" }, { a: "sig=x" }, { a: [1] }]) {
      expect(() => parsePresets(bad)).toThrow(expect.objectContaining({ details: { parameter: "presets" } }));
    }
  });
});
