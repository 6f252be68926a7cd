import { describe, expect, it } from "vitest";
import { dominantColour } from "./dominant-colour.js";

type Pixel = readonly [number, number, number, number?];

function pixels(...groups: Array<[count: number, colour: (i: number) => Pixel]>): Uint8Array {
  const out: number[] = [];
  for (const [count, colour] of groups) {
    for (let i = 0; i < count; i++) {
      const [r, g, b, a = 255] = colour(i);
      out.push(r, g, b, a);
    }
  }
  return Uint8Array.from(out);
}

const hexToRgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

describe("dominantColour", () => {
  it("is the most common colour, not the mean", () => {
    const rgba = pixels([55, () => [255, 0, 0]], [45, () => [0, 0, 255]]);
    expect(dominantColour(rgba)).toBe("#ff0000");
  });

  it("keeps a noisy region together against a smaller uniform one", () => {
    // A sky of 600 pixels spread around (40, 90, 200) across several histogram boxes, and
    // 400 pixels of one exact red: the sky is what a person sees as dominant.
    const sky = pixels([600, (i) => [40 + ((i * 7) % 41) - 20, 90 + ((i * 13) % 41) - 20, 200 + ((i * 29) % 41) - 20]]);
    const red = pixels([400, () => [200, 40, 40]]);
    const colour = dominantColour(Uint8Array.from([...sky, ...red]))!;
    const [r, g, b] = hexToRgb(colour);
    expect(Math.abs(r! - 40)).toBeLessThanOrEqual(6);
    expect(Math.abs(g! - 90)).toBeLessThanOrEqual(6);
    expect(Math.abs(b! - 200)).toBeLessThanOrEqual(6);
  });

  it("does not pick a colour between two clusters", () => {
    // Green and brown, each spread, with the box between them fed by both.
    const rgba = pixels(
      [500, (i) => [70 + (i % 20), 110 + (i % 17), 40]],
      [450, (i) => [150 + (i % 20), 80 + (i % 17), 40]],
    );
    const [r] = hexToRgb(dominantColour(rgba)!);
    expect(r).toBeLessThan(95);
  });

  it("ignores transparent pixels, and has no answer when nothing is opaque", () => {
    const rgba = pixels([90, () => [0, 0, 0, 0]], [10, () => [0, 128, 0, 255]]);
    expect(dominantColour(rgba)).toBe("#008000");
    expect(dominantColour(pixels([10, () => [255, 255, 255, 20]]))).toBeUndefined();
    expect(dominantColour(new Uint8Array(0))).toBeUndefined();
  });
});
