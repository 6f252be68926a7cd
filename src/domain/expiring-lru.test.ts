import { describe, expect, it } from "vitest";
import { ExpiringLru } from "./expiring-lru.js";

function filled(cache: ExpiringLru<string, string>, key: string, value: string, at: number): void {
  expect(cache.complete(cache.begin(key, at), value, at)).toBe(true);
}

describe("ExpiringLru", () => {
  it("answers a stored entry until its TTL, counted from when its read began", () => {
    const cache = new ExpiringLru<string, string>(10, 1000);
    const fill = cache.begin("a", 0);
    // The read took 400 ms: the entry still expires at 1000, not 1400.
    expect(cache.complete(fill, "A", 400)).toBe(true);
    expect(cache.get("a", 999)).toBe("A");
    expect(cache.get("a", 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("does not store a read that finishes after its TTL", () => {
    const cache = new ExpiringLru<string, string>(10, 100);
    expect(cache.complete(cache.begin("a", 0), "A", 100)).toBe(false);
    expect(cache.get("a", 100)).toBeUndefined();
  });

  it("evicts the least recently used entry beyond its size", () => {
    const cache = new ExpiringLru<string, string>(2, 1000);
    filled(cache, "a", "A", 0);
    filled(cache, "b", "B", 0);
    expect(cache.get("a", 1)).toBe("A");
    filled(cache, "c", "C", 2);
    expect(cache.get("b", 3)).toBeUndefined();
    expect(cache.get("a", 3)).toBe("A");
    expect(cache.get("c", 3)).toBe("C");
    expect(cache.size).toBe(2);
  });

  it("stores nothing with size 0", () => {
    const cache = new ExpiringLru<string, string>(0, 1000);
    expect(cache.complete(cache.begin("a", 0), "A", 0)).toBe(false);
    expect(cache.get("a", 0)).toBeUndefined();
    expect(cache.filling).toBe(0);
  });

  it("drops an invalidated entry", () => {
    const cache = new ExpiringLru<string, string>(10, 1000);
    filled(cache, "a", "A", 0);
    filled(cache, "b", "B", 0);
    cache.invalidate("a");
    expect(cache.get("a", 1)).toBeUndefined();
    expect(cache.get("b", 1)).toBe("B");
  });

  it("never stores a read that was in flight when its key was invalidated", () => {
    const cache = new ExpiringLru<string, string>(10, 1000);
    const before = cache.begin("a", 0);
    cache.invalidate("a");
    const after = cache.begin("a", 1);
    // The read that began before the change saw the old row; the one after sees the new one.
    expect(cache.complete(before, "old", 2)).toBe(false);
    expect(cache.complete(after, "new", 3)).toBe(true);
    expect(cache.get("a", 4)).toBe("new");
    expect(cache.filling).toBe(0);
  });

  it("keeps reads of other keys when one key is invalidated", () => {
    const cache = new ExpiringLru<string, string>(10, 1000);
    const fill = cache.begin("b", 0);
    cache.invalidate("a");
    expect(cache.complete(fill, "B", 1)).toBe(true);
  });

  it("clear drops every entry and voids every read in flight", () => {
    const cache = new ExpiringLru<string, string>(10, 1000);
    filled(cache, "a", "A", 0);
    const inFlight = cache.begin("b", 0);
    cache.clear();
    expect(cache.get("a", 1)).toBeUndefined();
    expect(cache.complete(inFlight, "B", 1)).toBe(false);
    expect(cache.get("b", 1)).toBeUndefined();
  });

  it("forgets an abandoned read, and a ticket counts once", () => {
    const cache = new ExpiringLru<string, string>(10, 1000);
    const fill = cache.begin("a", 0);
    expect(cache.filling).toBe(1);
    cache.abandon(fill);
    expect(cache.filling).toBe(0);
    expect(cache.complete(fill, "A", 1)).toBe(false);
    const again = cache.begin("a", 2);
    expect(cache.complete(again, "A", 2)).toBe(true);
    expect(cache.complete(again, "A2", 3)).toBe(false);
    expect(cache.get("a", 3)).toBe("A");
  });

  it("replaces an entry with a later read's result", () => {
    const cache = new ExpiringLru<string, string>(10, 1000);
    filled(cache, "a", "A", 0);
    filled(cache, "a", "A'", 500);
    expect(cache.get("a", 1200)).toBe("A'");
    expect(cache.size).toBe(1);
  });
});
