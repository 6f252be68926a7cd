import { decode, isBlurhashValid } from "blurhash";
import { describe, expect, it } from "vitest";
import { fingerprint, type RgbaThumbnail } from "./fingerprint.js";

function solid(width: number, height: number, rgba: readonly [number, number, number, number]): RgbaThumbnail {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(rgba, i);
  return { data, width, height };
}

describe("fingerprint", () => {
  it("gives a 4x3 blurhash, the colour and the hash of a thumbnail", () => {
    const result = fingerprint(solid(64, 40, [200, 30, 30, 255]));
    expect(isBlurhashValid(result.blurhash).result).toBe(true);
    expect(result.blurhash).toHaveLength(28); // 6 + 2 * (4 * 3 - 1)
    // The placeholder is that red, give or take blurhash's quantisation.
    const decoded = decode(result.blurhash, 16, 16);
    const [r, g, b] = [0, 1, 2].map((c) => decoded.filter((_, i) => i % 4 === c).reduce((a, v) => a + v, 0) / 256);
    expect(Math.abs(r! - 200)).toBeLessThan(12);
    expect(Math.abs(g! - 30)).toBeLessThan(12);
    expect(Math.abs(b! - 30)).toBeLessThan(12);
    expect(result.dominantColor).toBe("#c81e1e");
    expect(result.phash).toBe("8000000000000000");
  });

  it("sees transparency over white, so hidden colour values do not matter", () => {
    const hiddenBlack = fingerprint(solid(32, 32, [0, 0, 0, 0]));
    const hiddenRed = fingerprint(solid(32, 32, [255, 0, 0, 0]));
    const white = fingerprint(solid(32, 32, [255, 255, 255, 255]));
    expect(hiddenBlack.blurhash).toBe(white.blurhash);
    expect(hiddenRed.blurhash).toBe(white.blurhash);
    expect(hiddenBlack.phash).toBe(white.phash);
    expect(hiddenBlack.dominantColor).toBeUndefined();
  });

  it("copes with one-pixel and very thin thumbnails", () => {
    for (const [w, h] of [[1, 1], [1, 64], [64, 1]] as const) {
      const result = fingerprint(solid(w, h, [10, 20, 30, 255]));
      expect(isBlurhashValid(result.blurhash).result).toBe(true);
      expect(result.phash).toMatch(/^[0-9a-f]{16}$/);
    }
  });
});
