import { describe, expect, it } from "vitest";
import { canonicalRecipe, parseTransform } from "../domain/recipe.js";
import { assetUrl, dashUrl, hlsUrl, storyboardUrl, transformQuery, type Transform } from "./url.js";

/** The client must write exactly the query the server would canonicalise the same transform to. */
const serverCanonical = (query: string) =>
  canonicalRecipe(parseTransform(Object.fromEntries(new URLSearchParams(query))).recipe);

describe("transformQuery", () => {
  const cases: Transform[] = [
    { w: 300, fmt: "webp" },
    { h: 200, w: 300 },
    { w: 300, h: 200, fit: "cover", pos: "center" },
    { w: 300, h: 200, fit: "contain", pos: "northeast", bg: "#FFF" },
    { w: 300, fit: "inside" },
    { w: 300, dpr: 2, q: 80, fmt: "jpg" },
    { w: 5000, dpr: 3 },
    { rotate: 0, flip: true, flop: false, enlarge: false, strip: true },
    { rotate: 270, enlarge: true, strip: false, blur: 0.33333, sharpen: true },
    { sharpen: 2.5, page: 3, t: 1.5 },
    { w: 100, h: 100, pos: "attention" },
    { w: 100, h: 100, fit: "fill", pos: "west" },
    { crop: { x: 10, y: 0, w: 300, h: 200 }, w: 150, fmt: "webp" },
    { brightness: 1.2, contrast: 0.8, saturation: 0, w: 300 },
    { brightness: 1, contrast: 1.00004, saturation: 2.5 },
    { trim: true, w: 200 },
    { trim: 40 },
    { trim: false, w: 10 },
    { maxBytes: 20_000, q: 70, w: 800, fmt: "webp" },
  ];
  for (const transform of cases) {
    it(`matches the server for ${JSON.stringify(transform)}`, () => {
      const query = transformQuery(transform);
      expect(query).toBe(serverCanonical(query));
    });
  }

  it("writes equal transforms identically", () => {
    expect(transformQuery({ fmt: "webp", w: 300 })).toBe(transformQuery({ w: 300, fmt: "webp", rotate: 0 }));
    expect(transformQuery({ w: 300, dpr: 2 })).toBe("w=600");
  });

  it("keeps fmt=auto and presets, which the server resolves per request", () => {
    expect(transformQuery({ fmt: "auto", w: 300 })).toBe("w=300&fmt=auto");
    expect(transformQuery({ preset: "thumb", dpr: 2, fit: "cover" })).toBe("preset=thumb&dpr=2&fit=cover");
    expect(() => parseTransform(Object.fromEntries(new URLSearchParams("preset=thumb&dpr=2&fit=cover")))).not.toThrow();
  });

  it("keeps w=auto, which the server resolves from Client Hints per request", () => {
    expect(transformQuery({ w: "auto", dpr: 2, fmt: "webp" })).toBe("w=auto&fmt=webp");
    expect(transformQuery({ w: "auto", h: 100, dpr: 2 })).toBe("w=auto&h=200");
    const hinted = parseTransform({ w: "auto", fmt: "webp" }, undefined, { width: 640 });
    expect(canonicalRecipe(hinted.recipe)).toBe("w=700&fmt=webp");
  });

  it("refuses values the server would refuse", () => {
    expect(() => transformQuery({ w: 0 })).toThrow(RangeError);
    expect(() => transformQuery({ q: 101 })).toThrow(RangeError);
    expect(() => transformQuery({ w: 1.5 })).toThrow(RangeError);
    expect(() => transformQuery({ bg: "red" })).toThrow(RangeError);
    expect(() => transformQuery({ rotate: 45 as 90 })).toThrow(RangeError);
    expect(() => transformQuery({ crop: { x: -1, y: 0, w: 10, h: 10 } })).toThrow(RangeError);
    expect(() => transformQuery({ crop: { x: 0, y: 0, w: 0, h: 10 } })).toThrow(RangeError);
    expect(() => transformQuery({ brightness: 3.5 })).toThrow(RangeError);
    expect(() => transformQuery({ saturation: -1 })).toThrow(RangeError);
    expect(() => transformQuery({ trim: 256 })).toThrow(RangeError);
    expect(() => transformQuery({ maxBytes: 1000 })).toThrow(RangeError);
    expect(() => transformQuery({ maxBytes: 5000, strip: false })).toThrow(RangeError);
    expect(() => transformQuery({ trim: true, crop: { x: 0, y: 0, w: 1, h: 1 } })).toThrow(RangeError);
  });

  it("builds delivery URLs under the base URL", () => {
    expect(assetUrl("https://cdn.example/x/", "01ABC", { w: 300, fmt: "webp" })).toBe("https://cdn.example/x/a/01ABC?w=300&fmt=webp");
    expect(assetUrl("https://cdn.example", "01ABC")).toBe("https://cdn.example/a/01ABC");
    expect(assetUrl("https://cdn.example", "01ABC", {}, { download: true })).toBe("https://cdn.example/a/01ABC?download=1");
  });
});

describe("storyboardUrl", () => {
  it("builds the VTT and sprite URLs with validated parameters in the server's order", () => {
    expect(storyboardUrl("http://h/", "a b")).toBe("http://h/a/a%20b/storyboard.vtt");
    expect(storyboardUrl("http://h", "x", "jpg", { cols: 5, n: 20, w: 200 })).toBe("http://h/a/x/storyboard.jpg?n=20&w=200&cols=5");
    expect(() => storyboardUrl("http://h", "x", "vtt", { n: 101 })).toThrow(RangeError);
  });
});

describe("hlsUrl / dashUrl", () => {
  it("name the same ladder's HLS master and DASH manifest", () => {
    expect(hlsUrl("http://h/", "a b")).toBe("http://h/a/a%20b/hls/master.m3u8");
    expect(dashUrl("http://h/", "a b")).toBe("http://h/a/a%20b/dash/manifest.mpd");
  });
});
