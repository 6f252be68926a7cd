import { describe, expect, it } from "vitest";
import { phashDistance } from "../../domain/phash.js";
import { perceptualHash } from "./phash.js";
import { resampleArea } from "./resample.js";

/** A synthetic "photo": a bright and a dark blob on a diagonal gradient, with ripples. */
function scene(width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width, v = y / height;
      const bright = Math.exp(-(((u - 0.3) ** 2) + ((v - 0.6) ** 2)) * 25);
      const dark = Math.exp(-(((u - 0.75) ** 2) + ((v - 0.25) ** 2)) * 60);
      out[y * width + x] = 60 + 80 * u + 40 * v + 120 * bright - 90 * dark + 25 * Math.sin(u * 13) * Math.cos(v * 7);
    }
  }
  return out;
}

describe("perceptualHash (DCT pHash)", () => {
  it("is 64 bits as 16 hex digits, deterministic", () => {
    const hash = perceptualHash(scene(64, 40), 64, 40);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(perceptualHash(scene(64, 40), 64, 40)).toBe(hash);
  });

  it("ignores brightness and contrast changes", () => {
    const base = scene(64, 40);
    const changed = base.map((v) => v * 0.7 + 30);
    expect(perceptualHash(changed, 64, 40)).toBe(perceptualHash(base, 64, 40));
  });

  it("barely moves when the image is resized or slightly noisy", () => {
    const big = scene(64, 40);
    const small = resampleArea(big, 64, 40, 1, 31, 19);
    let seed = 7;
    const noisy = big.map((v) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return v + ((seed / 2 ** 31) - 0.5) * 8;
    });
    const hash = perceptualHash(big, 64, 40);
    expect(phashDistance(hash, perceptualHash(small, 31, 19))).toBeLessThanOrEqual(2);
    expect(phashDistance(hash, perceptualHash(noisy, 64, 40))).toBeLessThanOrEqual(2);
  });

  it("tells different pictures apart", () => {
    const hash = perceptualHash(scene(64, 40), 64, 40);
    expect(phashDistance(hash, perceptualHash(scene(64, 40).reverse(), 64, 40))).toBeGreaterThan(16); // 180°
    const inverted = scene(64, 40).map((v) => 255 - v);
    expect(phashDistance(hash, perceptualHash(inverted, 64, 40))).toBeGreaterThan(48);
    const mirrored = scene(64, 40);
    for (let y = 0; y < 40; y++) mirrored.subarray(y * 64, y * 64 + 64).reverse();
    expect(phashDistance(hash, perceptualHash(mirrored, 64, 40))).toBeGreaterThan(16);
  });

  it("gives a flat image the DC bit only, whatever its level", () => {
    expect(perceptualHash(new Float64Array(64 * 64).fill(200), 64, 64)).toBe("8000000000000000");
    expect(perceptualHash(new Float64Array(3 * 5).fill(17), 3, 5)).toBe("8000000000000000");
  });
});
