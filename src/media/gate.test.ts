import { describe, expect, it } from "vitest";
import { createGate } from "./gate.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("createGate", () => {
  it("runs at most `limit` tasks at once, first come first served", async () => {
    const gate = createGate(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4, 5].map((n) => gate.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(n);
      await tick();
      running--;
    })));
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  it("frees the slot when a task fails", async () => {
    const gate = createGate(1);
    await expect(gate.run(async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    await expect(gate.run(async () => 42)).resolves.toBe(42);
  });

  it("refuses a nonsensical limit", () => {
    expect(() => createGate(0)).toThrow(RangeError);
    expect(() => createGate(1.5)).toThrow(RangeError);
  });
});
