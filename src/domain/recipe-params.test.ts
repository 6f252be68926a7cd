import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "./errors.js";
import { canonicalRecipe, clampToSource, parseTransform } from "./recipe.js";

const canonical = (query: Record<string, string>) => canonicalRecipe(parseTransform(query).recipe);
const refusal = (query: Record<string, string>): string | undefined => {
  try {
    parseTransform(query);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as InvalidParameterError).details?.parameter as string | undefined;
  }
};

describe("crop", () => {
  it("is x,y,w,h in canonical form, before the size", () => {
    expect(canonical({ w: "200", crop: "010, 20,300,200" })).toBe("crop=10,20,300,200&w=200");
    expect(canonical({ crop: "0,0,1,1" })).toBe("crop=0,0,1,1");
  });

  it("refuses what is not four integers with sides of at least 1, naming crop", () => {
    for (const crop of ["1,2,3", "1,2,3,4,5", "a,b,c,d", "-1,0,10,10", "0,0,0,10", "0,0,10,0", "1.5,0,10,10", "", "0,0,2000000,1"]) {
      expect(refusal({ crop })).toBe("crop");
    }
  });

  it("clamps sides to the crop's size, which is what gets resized", () => {
    const photo = { width: 2560, height: 1600 };
    expect(canonicalRecipe(clampToSource(parseTransform({ crop: "0,0,400,300", w: "1000" }).recipe, photo))).toBe("crop=0,0,400,300&w=400");
    expect(canonicalRecipe(clampToSource(parseTransform({ crop: "0,0,400,300", w: "300" }).recipe, photo))).toBe("crop=0,0,400,300&w=300");
  });
});

describe("brightness, contrast, saturation", () => {
  it("are multipliers 0..3 in fixed order; 1 is the same recipe as none", () => {
    expect(canonical({ saturation: "0.5", brightness: "1.25", contrast: "2", w: "100" })).toBe("w=100&brightness=1.25&contrast=2&saturation=0.5");
    expect(canonical({ w: "100", brightness: "1", contrast: "1.0", saturation: "1.0004" })).toBe("w=100");
    expect(canonical({ saturation: "0" })).toBe("saturation=0");
  });

  it("refuse values outside 0..3 or not numbers, naming the parameter", () => {
    for (const key of ["brightness", "contrast", "saturation"]) {
      for (const value of ["3.5", "-1", "abc", ""]) expect(refusal({ [key]: value })).toBe(key);
    }
  });
});

describe("trim", () => {
  it("records the threshold: trim=1 is the default 10, trim=0 is no trim", () => {
    expect(canonical({ trim: "1", w: "100" })).toBe("trim=10&w=100");
    expect(canonical({ trim: "true" })).toBe(canonical({ trim: "10" }));
    expect(canonical({ trim: "" })).toBe("trim=10");
    expect(canonical({ trim: "40" })).toBe("trim=40");
    expect(canonical({ trim: "0", w: "100" })).toBe("w=100");
  });

  it("refuses thresholds outside 1..255, non-integers and trim with crop, naming trim", () => {
    for (const trim of ["256", "-1", "2.5", "yes", "1000"]) expect(refusal({ trim })).toBe("trim");
    expect(refusal({ trim: "1", crop: "0,0,10,10" })).toBe("trim");
  });
});

describe("max_bytes", () => {
  it("is an integer budget after q in the canonical order", () => {
    expect(canonical({ max_bytes: "20000", q: "70", w: "800" })).toBe("w=800&q=70&max_bytes=20000");
    expect(canonical({ max_bytes: "1024" })).toBe("max_bytes=1024");
    expect(canonical({ max_bytes: String(50 * 1024 * 1024), strip: "1" })).toBe(`max_bytes=${50 * 1024 * 1024}`);
  });

  it("refuses budgets outside 1 KiB..50 MiB, non-integers and strip=0, naming max_bytes", () => {
    for (const value of ["1023", "52428801", "2e4", "1.5k", ""]) expect(refusal({ max_bytes: value })).toBe("max_bytes");
    expect(refusal({ max_bytes: "20000", strip: "0" })).toBe("max_bytes");
  });
});
