import { describe, expect, it } from "vitest";
import { ByteCache } from "./byte-cache.js";

const entry = (n: number) => ({ data: Buffer.alloc(n) });

describe("ByteCache", () => {
  it("evicts least recently used entries to stay under its budget", () => {
    const cache = new ByteCache(100, 50);
    cache.set("a", entry(40));
    cache.set("b", entry(40));
    cache.get("a");
    cache.set("c", entry(40));
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBeDefined();
    expect(cache.get("c")).toBeDefined();
    expect(cache.size).toBe(80);
  });

  it("skips entries larger than the per-entry cap and a zero budget", () => {
    const cache = new ByteCache(100, 50);
    cache.set("big", entry(60));
    expect(cache.get("big")).toBeUndefined();
    const none = new ByteCache(0);
    none.set("a", entry(1));
    expect(none.get("a")).toBeUndefined();
  });

  it("replaces an entry without double counting", () => {
    const cache = new ByteCache(100, 100);
    cache.set("a", entry(30));
    cache.set("a", entry(50));
    expect(cache.size).toBe(50);
  });
});
