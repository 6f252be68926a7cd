import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./backoff.js";

describe("retryDelayMs", () => {
  const options = { baseMs: 1000, maxMs: 300_000, jitter: 0.2 };

  it("doubles per attempt from the base and stops at the cap", () => {
    const middle = () => 0.5; // no jitter
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, options, middle))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30, options, middle)).toBe(300_000);
    expect(retryDelayMs(5000, options, middle)).toBe(300_000);
  });

  it("spreads each delay by at most the jitter fraction", () => {
    expect(retryDelayMs(3, options, () => 0)).toBe(3200);
    expect(retryDelayMs(3, options, () => 1)).toBe(4800);
    expect(retryDelayMs(3, { ...options, jitter: 0 }, Math.random)).toBe(4000);
  });
});
