import { describe, expect, it } from "vitest";
import { isAppError } from "../domain/errors.js";
import type { CpuSlot } from "../ports/cpu-budget.js";
import { createCpuBudget } from "./cpu-budget.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("createCpuBudget", () => {
  it("runs at most `slots` tasks at once, first come first served", async () => {
    const budget = createCpuBudget({ slots: 2 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4, 5].map((n) => budget.run(async () => {
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
    const budget = createCpuBudget({ slots: 1 });
    await expect(budget.run(async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    await expect(budget.run(async () => 42)).resolves.toBe(42);
    expect(budget.active).toBe(0);
  });

  it("refuses a nonsensical limit", () => {
    expect(() => createCpuBudget({ slots: 0 })).toThrow(RangeError);
    expect(() => createCpuBudget({ slots: 1.5 })).toThrow(RangeError);
    expect(() => createCpuBudget({ slots: 1, maxWaiting: -1 })).toThrow(RangeError);
  });

  it("turns a request away with overloaded (retry after 1 s) when the queue is full", async () => {
    const budget = createCpuBudget({ slots: 1, maxWaiting: 1 });
    let release!: () => void;
    const first = budget.run(() => new Promise<void>((resolve) => (release = resolve)));
    const second = budget.run(async () => "second");
    const error = await budget.run(async () => "third").catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe("overloaded");
    expect(isAppError(error) && error.details.retryAfter).toBe(1);
    release();
    await first;
    await expect(second).resolves.toBe("second");
  });

  it("queues patient work beyond the bound without counting it against requests", async () => {
    const budget = createCpuBudget({ slots: 1, maxWaiting: 1 });
    let release!: () => void;
    const first = budget.run(() => new Promise<void>((resolve) => (release = resolve)));
    const jobs = [1, 2, 3].map((n) => budget.run(async () => n, { patient: true }));
    const request = budget.run(async () => "request");
    expect(budget.queued).toBe(4);
    release();
    await first;
    await expect(Promise.all(jobs)).resolves.toEqual([1, 2, 3]);
    await expect(request).resolves.toBe("request");
  });

  it("lets a request wait behind background work: only other requests fill the queue", async () => {
    const budget = createCpuBudget({ slots: 1, maxWaiting: 0 });
    let release!: () => void;
    const job = budget.run(() => new Promise<void>((resolve) => (release = resolve)), { patient: true });
    const order: string[] = [];
    const request = budget.run(async () => { order.push("request"); });
    await expect(budget.run(async () => "second request")).rejects.toMatchObject({ code: "overloaded" });
    order.push("job done");
    release();
    await job;
    await request;
    expect(order).toEqual(["job done", "request"]);
  });

  it("runs nested work in the slot its caller holds, so one slot never deadlocks", async () => {
    const budget = createCpuBudget({ slots: 1, maxWaiting: 0 });
    const result = await budget.run(async (slot) => {
      const inner = await budget.run(async () => budget.active, { within: slot });
      return inner + 1;
    });
    expect(result).toBe(2);
    expect(budget.active).toBe(0);
  });

  it("does not honour a slot after its task settled, nor one of another budget", async () => {
    const budget = createCpuBudget({ slots: 1, maxWaiting: 0 });
    let stale!: CpuSlot;
    await budget.run(async (slot) => { stale = slot; });
    let release!: () => void;
    const holder = budget.run(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(budget.run(async () => "late", { within: stale })).rejects.toMatchObject({ code: "overloaded" });
    const other = createCpuBudget({ slots: 1 });
    await other.run(async (foreign) => {
      await expect(budget.run(async () => "foreign", { within: foreign })).rejects.toMatchObject({ code: "overloaded" });
    });
    release();
    await holder;
  });

  it("drops a waiter whose signal aborts, and never starts its task", async () => {
    const budget = createCpuBudget({ slots: 1, maxWaiting: 1 });
    let release!: () => void;
    const holder = budget.run(() => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    let started = false;
    const waiting = budget.run(async () => { started = true; }, { signal: controller.signal });
    controller.abort(new Error("client gone"));
    await expect(waiting).rejects.toThrow("client gone");
    expect(budget.queued).toBe(0);
    // Its place in the queue is free again.
    const next = budget.run(async () => "next");
    release();
    await holder;
    await expect(next).resolves.toBe("next");
    expect(started).toBe(false);
  });
});
