import { describe, expect, it } from "vitest";
import { chooseOutputFormat, keepsAlpha, keepsAnimation } from "./output-format.js";

describe("chooseOutputFormat", () => {
  it("an explicit fmt wins", () => {
    expect(chooseOutputFormat("avif", "png", true)).toBe("avif");
    expect(chooseOutputFormat("gif", "jpeg", false)).toBe("gif");
  });

  it("without fmt keeps formats browsers show", () => {
    for (const f of ["jpeg", "png", "webp", "avif", "gif"] as const) expect(chooseOutputFormat(undefined, f, f === "png")).toBe(f);
  });

  it("without fmt turns TIFF/SVG into JPEG, or PNG when there is alpha", () => {
    expect(chooseOutputFormat(undefined, "tiff", false)).toBe("jpeg");
    expect(chooseOutputFormat(undefined, "tiff", true)).toBe("png");
    expect(chooseOutputFormat(undefined, "svg", true)).toBe("png");
  });

  it("jpeg-or-png decides on alpha alone", () => {
    expect(chooseOutputFormat("jpeg-or-png", "webp", false)).toBe("jpeg");
    expect(chooseOutputFormat("jpeg-or-png", "webp", true)).toBe("png");
    expect(chooseOutputFormat("jpeg-or-png", "gif", true)).toBe("png");
  });

  it("knows which encoders keep alpha and animation", () => {
    expect(["jpeg", "png", "webp", "avif", "gif"].filter((f) => keepsAlpha(f as never))).toEqual(["png", "webp", "avif", "gif"]);
    expect(["jpeg", "png", "webp", "avif", "gif"].filter((f) => keepsAnimation(f as never))).toEqual(["webp", "gif"]);
  });
});
