import { describe, expect, it } from "vitest";
import { resampleArea } from "./resample.js";

describe("resampleArea", () => {
  it("averages whole blocks when shrinking by an integer factor", () => {
    // 4x2, one channel: two 2x2 blocks.
    const out = resampleArea([0, 2, 10, 20, 4, 6, 30, 40], 4, 2, 1, 2, 1);
    expect([...out]).toEqual([3, 25]);
  });

  it("weights fractional edges (3 -> 2 pixels)", () => {
    const out = resampleArea([0, 30, 60], 3, 1, 1, 2, 1);
    // [0, 1.5) = 0*(2/3) + 30*(1/3) = 10; [1.5, 3) = 30*(1/3) + 60*(2/3) = 50
    expect(out[0]).toBeCloseTo(10, 10);
    expect(out[1]).toBeCloseTo(50, 10);
  });

  it("keeps channels apart and preserves the mean", () => {
    const pixels: number[] = [];
    for (let i = 0; i < 7 * 5; i++) pixels.push(i % 7, 255 - i, 100);
    const out = resampleArea(pixels, 7, 5, 3, 3, 2);
    const mean = (values: ArrayLike<number>, c: number) => {
      let sum = 0;
      for (let i = c; i < values.length; i += 3) sum += values[i]!;
      return sum / (values.length / 3);
    };
    for (const c of [0, 1, 2]) expect(mean(out, c)).toBeCloseTo(mean(pixels, c), 9);
    for (let i = 2; i < out.length; i += 3) expect(out[i]).toBeCloseTo(100, 9);
  });

  it("enlarges by repeating (1x1 -> 2x2)", () => {
    expect([...resampleArea([7], 1, 1, 1, 2, 2)]).toEqual([7, 7, 7, 7]);
  });

  it("refuses a buffer of the wrong size", () => {
    expect(() => resampleArea([1, 2, 3], 2, 2, 1, 1, 1)).toThrow(RangeError);
  });
});
