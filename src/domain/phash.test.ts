import { describe, expect, it } from "vitest";
import { int64ToPhash, isPhash, phashDistance, phashToInt64, popcount64 } from "./phash.js";

describe("perceptual hash values", () => {
  it("round-trips hex through a signed 64-bit integer, high bit included", () => {
    for (const hex of ["0000000000000000", "0000000000000001", "7fffffffffffffff", "8000000000000000", "ffffffffffffffff", "c3a5f00d12345678"]) {
      const stored = phashToInt64(hex);
      expect(stored).toBeGreaterThanOrEqual(-(2n ** 63n));
      expect(stored).toBeLessThan(2n ** 63n);
      expect(int64ToPhash(stored)).toBe(hex);
    }
    expect(phashToInt64("ffffffffffffffff")).toBe(-1n);
    expect(phashToInt64("8000000000000000")).toBe(-(2n ** 63n));
  });

  it("accepts 16 lower-case hex digits only", () => {
    expect(isPhash("0123456789abcdef")).toBe(true);
    for (const bad of ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "", 5, null]) expect(isPhash(bad)).toBe(false);
    expect(() => phashToInt64("xyz")).toThrow(RangeError);
  });

  it("counts differing bits over all 64", () => {
    expect(popcount64(0n)).toBe(0);
    expect(popcount64(-1n)).toBe(64);
    expect(popcount64(-(2n ** 63n))).toBe(1);
    expect(phashDistance("0000000000000000", "ffffffffffffffff")).toBe(64);
    expect(phashDistance("8000000000000001", "0000000000000000")).toBe(2);
    expect(phashDistance("f0f0f0f0f0f0f0f0", "0f0f0f0f0f0f0f0f")).toBe(64);
    expect(phashDistance("c3a5f00d12345678", "c3a5f00d12345678")).toBe(0);
  });
});
