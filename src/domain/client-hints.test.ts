import { describe, expect, it } from "vitest";
import { applyHints, readClientHints, roundDpr, roundWidth, varyNames } from "./client-hints.js";
import { canonicalRecipe, parseTransform } from "./recipe.js";

const hinted = (query: Record<string, string>, hints?: Parameters<typeof parseTransform>[2]) => {
  const request = parseTransform(query, undefined, hints);
  return { recipe: canonicalRecipe(request.recipe), used: request.hints ?? [] };
};

describe("rounding hints to a few steps", () => {
  it("rounds the DPR up to 1, 1.5, 2 or 3", () => {
    expect([0.5, 1, 1.1, 1.5, 1.75, 2, 2.625, 3, 4].map(roundDpr)).toEqual([1, 1, 1.5, 1.5, 2, 2, 3, 3, 3]);
  });

  it("rounds widths up to a multiple of 100, at most 8192", () => {
    expect([1, 100, 101, 640, 1080, 8150, 9000].map(roundWidth)).toEqual([100, 100, 200, 700, 1100, 8192, 8192]);
  });
});

describe("reading hints", () => {
  it("prefers the Sec-CH names, falls back to the legacy ones, ignores junk", () => {
    const headers: Record<string, string> = { "sec-ch-dpr": "2", dpr: "3", width: "640", "viewport-width": "abc" };
    expect(readClientHints((name) => headers[name])).toEqual({ dpr: 2, width: 640 });
    expect(readClientHints(() => "0")).toEqual({});
    expect(readClientHints(() => undefined)).toEqual({});
  });
});

describe("hints in the recipe", () => {
  it("multiply numeric sides by the rounded DPR unless the URL has dpr", () => {
    expect(hinted({ w: "300" }, { dpr: 2 })).toEqual({ recipe: "w=600", used: ["dpr"] });
    expect(hinted({ w: "300", h: "200" }, { dpr: 1.3 })).toEqual({ recipe: "w=450&h=300", used: ["dpr"] });
    expect(hinted({ w: "300", dpr: "1" }, { dpr: 2 })).toEqual({ recipe: "w=300", used: [] });
    // No hint sent: still depended on it (a cache must tell the two apart).
    expect(hinted({ w: "300" }, {})).toEqual({ recipe: "w=300", used: ["dpr"] });
    // Nothing to scale: not read.
    expect(hinted({ fmt: "webp" }, { dpr: 2 })).toEqual({ recipe: "fmt=webp", used: [] });
  });

  it("resolve w=auto from the width hint (physical pixels), else the viewport times the DPR", () => {
    expect(hinted({ w: "auto" }, { width: 640, dpr: 2 })).toEqual({ recipe: "w=700", used: ["width"] });
    expect(hinted({ w: "auto", h: "100" }, { width: 640, dpr: 2 })).toEqual({ recipe: "w=700&h=200", used: ["dpr", "width"] });
    expect(hinted({ w: "auto" }, { viewportWidth: 390, dpr: 3 })).toEqual({ recipe: "w=1200", used: ["width", "viewportWidth", "dpr"] });
    // Without either width, the DPR changes nothing: not read.
    expect(hinted({ w: "auto" }, {})).toEqual({ recipe: "", used: ["width", "viewportWidth"] });
  });

  it("are not read when the feature is off: w=auto means no width", () => {
    expect(hinted({ w: "auto", fmt: "webp" })).toEqual({ recipe: "fmt=webp", used: [] });
    expect(hinted({ w: "300" })).toEqual({ recipe: "w=300", used: [] });
    expect(applyHints({ w: "auto" }, undefined)).toEqual({ used: [] });
  });

  it("name both header spellings in Vary", () => {
    expect(varyNames(["dpr", "width"])).toEqual(["Sec-CH-DPR", "DPR", "Sec-CH-Width", "Width"]);
  });
});
