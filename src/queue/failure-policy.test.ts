import { describe, expect, it } from "vitest";
import { PermanentJobError } from "../ports/job-queue.js";
import { silentLogger } from "../ports/logger.js";
import { createFailurePolicy } from "./failure-policy.js";

describe("the queues' failure policy", () => {
  const policy = createFailurePolicy({ logger: silentLogger, backoff: { baseMs: 1000, maxMs: 8000, jitter: 0 } });
  const job = { id: "01J", name: "scan" };

  it("retries before the last attempt and dead-letters on it", () => {
    expect(policy.failed(job, 1, 3, new TypeError("no"))).toEqual({ dead: false, error: "TypeError: no" });
    expect(policy.failed(job, 3, 3, "gone")).toEqual({ dead: true, error: "gone" });
  });

  it("dead-letters a permanent failure on any attempt", () => {
    expect(policy.failed(job, 1, 5, new PermanentJobError("undecodable_media: not an image"))).toEqual({
      dead: true, error: "PermanentJobError: undecodable_media: not an image",
    });
  });

  it("counts a worker lost during the last attempt as its failure", () => {
    expect(policy.lostOnLastAttempt(job, 3, 3)).toBe(false);
    expect(policy.lostOnLastAttempt(job, 4, 3)).toBe(true);
  });

  it("backs off exponentially up to the cap", () => {
    expect([1, 2, 3, 4, 5].map(policy.delayMs)).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it("stores a bounded error text", () => {
    const { error } = policy.failed(job, 1, 2, new Error("x".repeat(10_000)));
    expect(error.length).toBe(4001);
    expect(error.endsWith("…")).toBe(true);
  });
});
