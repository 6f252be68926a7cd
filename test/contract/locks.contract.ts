/**
 * The behaviour every Locks and SingleFlight backend must show (in-process memory now,
 * Redis for several processes), through the port only. Cross-process behaviour needs two
 * instances of one backend and lives next to that backend's runner.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Locks, SingleFlight } from "../../src/ports/locks.js";

/** A backend instance and how to release what it holds (connections, keys). */
export interface Subject<T> {
  subject: T;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function locksContract(name: string, make: () => Promise<Subject<Locks>>): void {
  describe(`Locks contract: ${name}`, () => {
    let instance: Subject<Locks>;
    let locks: Locks;
    beforeEach(async () => {
      instance = await make();
      locks = instance.subject;
    });
    afterEach(async () => {
      await instance.close();
    });

    it("runs fn while holding the lock and returns its value", async () => {
      expect(await locks.withLock("value", async () => 42)).toBe(42);
    });

    it("never lets two holders of one name interleave, under 50 concurrent callers", async () => {
      let counter = 0;
      let inside = 0;
      let peak = 0;
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          locks.withLock("counter", async () => {
            inside++;
            peak = Math.max(peak, inside);
            const read = counter;
            await sleep(i % 3); // a read-modify-write with an await in the middle
            counter = read + 1;
            inside--;
          }),
        ),
      );
      expect(counter).toBe(50);
      expect(peak).toBe(1);
    });

    it("does not make different names wait for each other", async () => {
      const gate = deferred();
      const held = deferred();
      const a = locks.withLock("a", async () => {
        held.resolve();
        await gate.promise;
      });
      await held.promise;
      const startedAt = Date.now();
      expect(await locks.withLock("b", async () => "b")).toBe("b");
      expect(Date.now() - startedAt).toBeLessThan(1000);
      gate.resolve();
      await a;
    });

    it("releases the lock when fn throws, and the error reaches the caller", async () => {
      await expect(
        locks.withLock("throws", async () => {
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      const startedAt = Date.now();
      expect(await locks.withLock("throws", async () => "next")).toBe("next");
      expect(Date.now() - startedAt).toBeLessThan(1000);
    });

    it("lets a waiter in as soon as the holder is done", async () => {
      const order: string[] = [];
      const first = locks.withLock("order", async () => {
        order.push("first:start");
        await sleep(50);
        order.push("first:end");
      });
      await sleep(5);
      const second = locks.withLock("order", async () => void order.push("second"));
      await Promise.all([first, second]);
      expect(order).toEqual(["first:start", "first:end", "second"]);
    });
  });
}

export function singleFlightContract(name: string, make: () => Promise<Subject<SingleFlight>>): void {
  describe(`SingleFlight contract: ${name}`, () => {
    let instance: Subject<SingleFlight>;
    let flight: SingleFlight;
    beforeEach(async () => {
      instance = await make();
      flight = instance.subject;
    });
    afterEach(async () => {
      await instance.close();
    });

    it("runs fn once for concurrent callers of one key; all get its value, all but one collapsed", async () => {
      let calls = 0;
      const fn = async () => {
        calls++;
        await sleep(30);
        return { rendered: calls };
      };
      const results = await Promise.all(Array.from({ length: 20 }, () => flight.run("variant", fn)));
      expect(calls).toBe(1);
      expect(results.every((r) => r.value.rendered === 1)).toBe(true);
      expect(results.filter((r) => !r.collapsed)).toHaveLength(1);
    });

    it("does not collapse different keys", async () => {
      const ran: string[] = [];
      const [a, b] = await Promise.all(
        ["a", "b"].map((key) =>
          flight.run(key, async () => {
            ran.push(key);
            await sleep(10);
            return key;
          }),
        ),
      );
      expect(ran.sort()).toEqual(["a", "b"]);
      expect([a, b]).toEqual([
        { value: "a", collapsed: false },
        { value: "b", collapsed: false },
      ]);
    });

    it("gives fn's error to every concurrent caller, and does not remember it", async () => {
      let calls = 0;
      const failing = async (): Promise<string> => {
        calls++;
        await sleep(10);
        throw new Error("render failed");
      };
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => flight.run("broken", failing)));
      expect(outcomes.every((o) => o.status === "rejected" && String(o.reason).includes("render failed"))).toBe(true);
      expect(calls).toBe(1);
      expect(await flight.run("broken", async () => "fixed")).toEqual({ value: "fixed", collapsed: false });
    });

    it("runs fn again for a call that comes after the previous run finished (no result caching)", async () => {
      let calls = 0;
      const fn = async () => ++calls;
      expect(await flight.run("again", fn)).toEqual({ value: 1, collapsed: false });
      expect(await flight.run("again", fn)).toEqual({ value: 2, collapsed: false });
    });
  });
}
