import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { FITS, type Fit } from "../../domain/recipe.js";
import { resizedSize, type ResizeRequest } from "./output-size.js";

describe("resizedSize", () => {
  it("keeps the source size without w or h", () => {
    expect(resizedSize({ width: 640, height: 480 }, {})).toEqual({ width: 640, height: 480 });
  });

  it("keeps the aspect ratio with one side, and does not enlarge unless asked", () => {
    expect(resizedSize({ width: 3088, height: 2056 }, { w: 300 })).toEqual({ width: 300, height: 200 });
    expect(resizedSize({ width: 640, height: 480 }, { h: 120 })).toEqual({ width: 160, height: 120 });
    expect(resizedSize({ width: 640, height: 480 }, { w: 1000 })).toEqual({ width: 640, height: 480 });
    expect(resizedSize({ width: 640, height: 480 }, { w: 1000, enlarge: true })).toEqual({ width: 1000, height: 750 });
  });

  it("never sends a side to zero", () => {
    expect(resizedSize({ width: 10_000, height: 2 }, { w: 10 })).toEqual({ width: 10, height: 1 });
  });

  // The plan checks limits with this function before rendering, so it must agree with sharp.
  const sources = [[640, 480], [480, 640], [101, 37], [300, 40]] as const;
  const boxes: ResizeRequest[] = [{ w: 300 }, { h: 300 }, { w: 50 }, { w: 900 }];
  for (const fit of [undefined, ...FITS] as (Fit | undefined)[]) {
    boxes.push({ w: 300, h: 300, fit }, { w: 200, h: 900, fit }, { w: 1000, h: 100, fit }, { w: 900, h: 700, fit });
  }
  for (const [width, height] of sources) {
    it(`agrees with sharp for a ${width}x${height} source`, async () => {
      const png = await sharp({ create: { width, height, channels: 3, background: "#808080" } }).png().toBuffer();
      for (const box of boxes) {
        for (const enlarge of [false, true]) {
          const { info } = await sharp(png).resize({
            ...(box.w ? { width: box.w } : {}), ...(box.h ? { height: box.h } : {}),
            fit: box.w && box.h ? box.fit ?? "cover" : "inside", withoutEnlargement: !enlarge,
          }).raw().toBuffer({ resolveWithObject: true });
          const label = `${width}x${height} ${JSON.stringify(box)} enlarge=${enlarge}`;
          expect(resizedSize({ width, height }, { ...box, enlarge }), label).toEqual({ width: info.width, height: info.height });
        }
      }
    });
  }
});
