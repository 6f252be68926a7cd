import { describe, expect, it } from "vitest";
import { canonicalRecipe, clampToSource, parseTransform } from "./recipe.js";

const photo = { width: 2560, height: 1920 };
const clamped = (query: Record<string, string>) => canonicalRecipe(clampToSource(parseTransform(query).recipe, photo));

describe("clamping a recipe to its source", () => {
  it("maps every width above the source's to the source's width", () => {
    expect(clamped({ w: "5000" })).toBe("w=2560");
    expect(clamped({ w: "8000", fmt: "webp" })).toBe("w=2560&fmt=webp");
    expect(clamped({ w: "2560" })).toBe("w=2560");
    expect(clamped({ h: "4000" })).toBe("h=1920");
    expect(clamped({ w: "1000", dpr: "4" })).toBe("w=2560");
  });

  it("keeps sides within the source as asked", () => {
    expect(clamped({ w: "800" })).toBe("w=800");
    expect(clamped({ w: "3000", h: "600", fit: "inside" })).toBe("w=2560&h=600&fit=inside");
    expect(clamped({ w: "3000", h: "600" })).toBe("w=2560&h=600");
  });

  it("clamps both sides for the fits whose output cannot exceed the source", () => {
    expect(clamped({ w: "6000", h: "6000" })).toBe("w=2560&h=1920");
    expect(clamped({ w: "6000", h: "6000", fit: "outside" })).toBe("w=2560&h=1920&fit=outside");
    expect(clamped({ w: "6000", h: "6000", fit: "fill" })).toBe("w=2560&h=1920&fit=fill");
  });

  it("leaves enlarging and padded recipes alone: their outputs differ per size", () => {
    expect(clamped({ w: "5000", enlarge: "1" })).toBe("w=5000&enlarge=1");
    expect(clamped({ w: "5000", h: "5000", fit: "contain" })).toBe("w=5000&h=5000&fit=contain");
  });
});
