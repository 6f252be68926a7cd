import { describe, expect, it } from "vitest";

import { KeyedMutex } from "./keyed-mutex.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Tasks that log their start and end, returning their name. */
function recorder() {
  const events: string[] = [];
  const task = (name: string) => async () => {
    events.push(`start ${name}`);
    await tick();
    events.push(`end ${name}`);
    return name;
  };
  return { events, task };
}

describe("KeyedMutex", () => {
  it("runs tasks for one key one at a time, in call order", async () => {
    const mutex = new KeyedMutex();
    const { events, task } = recorder();
    expect(await Promise.all([mutex.run("k", task("a")), mutex.run("k", task("b")), mutex.run("k", task("c"))])).toEqual(["a", "b", "c"]);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(mutex.size).toBe(0);
  });

  it("runs different keys concurrently", async () => {
    const mutex = new KeyedMutex();
    const { events, task } = recorder();
    await Promise.all([mutex.run("x", task("x")), mutex.run("y", task("y"))]);
    expect(events.slice(0, 2)).toEqual(["start x", "start y"]);
  });

  it("goes on after a failing task and forgets idle keys", async () => {
    const mutex = new KeyedMutex();
    const failed = mutex.run("k", () => Promise.reject(new Error("boom")));
    const next = mutex.run("k", async () => "next");
    await expect(failed).rejects.toThrow("boom");
    expect(await next).toBe("next");
    expect(mutex.size).toBe(0);
  });
});
