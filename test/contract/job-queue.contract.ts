/**
 * The behaviour every JobQueue backend must show (the embedded DB queue now, BullMQ
 * later), exercised through the port plus one backend hook: `crash`, which makes a queue
 * instance vanish the way a killed worker process would.
 *
 * Timings are short (leases under a second, millisecond backoff) so the suite stays fast;
 * a backend maps them onto its own knobs (for BullMQ: lockDuration, stalledInterval,
 * backoff delay).
 */
import { JOB_NAMES } from "../../src/ports/job-queue.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { JobContext, JobHandlers, JobQueue } from "../../src/ports/job-queue.js";

export interface ContractQueueOptions {
  /** How long a claimed job stays owned without a heartbeat. */
  leaseMs: number;
  /** How often idle workers look for work. */
  pollMs: number;
  /** Retry delay after the first failure; doubles per attempt up to backoffMaxMs, no jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** For jobs enqueued without `maxAttempts`. */
  defaultMaxAttempts: number;
}

export interface QueueInstance {
  queue: JobQueue;
  /**
   * Gone at once like a killed process: no more claims or heartbeats, nothing written for
   * running jobs (their handlers' signals may be aborted).
   */
  crash(): Promise<void>;
}

/** One backend (database, Redis…) that several queue instances can share. */
export interface QueueBackend {
  open(options: ContractQueueOptions): Promise<QueueInstance>;
  /** Stops every instance opened here and releases the backend. */
  dispose(): Promise<void>;
}

export const CONTRACT_OPTIONS: ContractQueueOptions = {
  leaseMs: 600,
  pollMs: 25,
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  defaultMaxAttempts: 3,
};

type Behaviour = (assetId: string, ctx: JobContext) => Promise<void>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** Handlers that record every call and delegate to `behaviour`. */
function recorder(behaviour: Behaviour = async () => {}) {
  const calls: Array<{ assetId: string; attempt: number; id: string }> = [];
  const finished: string[] = [];
  const handlers: JobHandlers = {
    "extract-metadata": async ({ assetId }, ctx) => {
      calls.push({ assetId, attempt: ctx.attempt, id: ctx.id });
      await behaviour(assetId, ctx);
      finished.push(assetId);
    },
  };
  return { calls, finished, handlers };
}

/** Every job name at zero except extract-metadata, the one these cases use. */
function depthWith(extract: { waiting: number; active: number; dead: number }) {
  const zero = { waiting: 0, active: 0, dead: 0 };
  return Object.fromEntries(JOB_NAMES.map((name) => [name, name === "extract-metadata" ? extract : zero]));
}

export function jobQueueContract(name: string, makeBackend: () => Promise<QueueBackend>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let backend: QueueBackend;
    let instances: QueueInstance[];
    const open = async (overrides: Partial<ContractQueueOptions> = {}) => {
      const instance = await backend.open({ ...CONTRACT_OPTIONS, ...overrides });
      instances.push(instance);
      return instance.queue;
    };

    beforeEach(async () => {
      backend = await makeBackend();
      instances = [];
    });
    afterEach(async () => {
      await backend.dispose();
    });

    it("runs each enqueued job exactly once", async () => {
      const queue = await open();
      const { calls, finished, handlers } = recorder();
      for (let i = 0; i < 10; i++) await queue.enqueue("extract-metadata", { assetId: `a${i}` });
      queue.start(handlers, { concurrency: 3 });
      await waitFor("10 jobs finished", () => finished.length === 10);
      await sleep(CONTRACT_OPTIONS.pollMs * 4);
      expect(calls.map((c) => c.assetId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`).sort());
      expect(calls.every((c) => c.attempt === 1)).toBe(true);
      await waitFor("no job left waiting or active", async () => {
        const d = (await queue.depth())["extract-metadata"];
        return d.waiting === 0 && d.active === 0;
      });
      expect((await queue.depth())["extract-metadata"]).toEqual({ waiting: 0, active: 0, dead: 0 });
      await queue.stop();
    });

    it("starts a job enqueued while the workers idle without waiting for a slow poll", async () => {
      const queue = await open({ pollMs: 2000 });
      const { finished, handlers } = recorder();
      queue.start(handlers, { concurrency: 1 });
      await sleep(50);
      const enqueuedAt = Date.now();
      await queue.enqueue("extract-metadata", { assetId: "now" });
      await waitFor("job finished", () => finished.length === 1, 1500);
      expect(Date.now() - enqueuedAt).toBeLessThan(1000);
      await queue.stop();
    });

    it("ignores an enqueue while a job with the same name and key is waiting or active", async () => {
      const queue = await open();
      await queue.enqueue("extract-metadata", { assetId: "first" }, { key: "k" });
      await queue.enqueue("extract-metadata", { assetId: "second" }, { key: "k" });
      await queue.enqueue("extract-metadata", { assetId: "other" }, { key: "other-key" });
      expect((await queue.depth())["extract-metadata"].waiting).toBe(2);

      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { calls, finished, handlers } = recorder((assetId) => (assetId === "first" ? gate : Promise.resolve()));
      queue.start(handlers, { concurrency: 2 });
      await waitFor("first job running", () => calls.some((c) => c.assetId === "first"));
      await queue.enqueue("extract-metadata", { assetId: "while-active" }, { key: "k" });
      release();
      await waitFor("two jobs finished", () => finished.length === 2);
      await sleep(CONTRACT_OPTIONS.pollMs * 4);
      expect(calls.map((c) => c.assetId).sort()).toEqual(["first", "other"]);

      // Once the job is done the key is free again.
      await queue.enqueue("extract-metadata", { assetId: "later" }, { key: "k" });
      await waitFor("the later job ran", () => finished.includes("later"));
      await queue.stop();
    });

    it("retries a failing handler with backoff until it succeeds", async () => {
      const queue = await open();
      const { calls, finished, handlers } = recorder(async (_assetId, ctx) => {
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
      });
      await queue.enqueue("extract-metadata", { assetId: "flaky" });
      queue.start(handlers, { concurrency: 1 });
      await waitFor("succeeded", () => finished.length === 1);
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      await waitFor("recorded as done", async () => (await queue.list("done", 10)).length === 1);
      const [job] = await queue.list("done", 10);
      expect(job).toMatchObject({ name: "extract-metadata", state: "done", attempts: 3, payload: { assetId: "flaky" } });
      await queue.stop();
    });

    it("moves a job that keeps failing to the dead letters after maxAttempts, and retry revives it", async () => {
      const queue = await open();
      let healthy = false;
      const { calls, finished, handlers } = recorder(async () => {
        if (!healthy) throw new Error("always broken");
      });
      await queue.enqueue("extract-metadata", { assetId: "doomed" }, { maxAttempts: 2, key: "doomed" });
      await queue.enqueue("extract-metadata", { assetId: "default-budget" });
      queue.start(handlers, { concurrency: 2 });
      await waitFor("both dead", async () => (await queue.depth())["extract-metadata"].dead === 2);
      expect(calls.filter((c) => c.assetId === "doomed")).toHaveLength(2);
      expect(calls.filter((c) => c.assetId === "default-budget")).toHaveLength(CONTRACT_OPTIONS.defaultMaxAttempts);

      const dead = await queue.list("dead", 10);
      const doomed = dead.find((j) => (j.payload as { assetId: string }).assetId === "doomed")!;
      expect(doomed).toMatchObject({ state: "dead", attempts: 2, maxAttempts: 2, key: "doomed" });
      expect(doomed.lastError).toContain("always broken");
      expect(await queue.retry("no-such-job")).toBe(false);

      healthy = true;
      expect(await queue.retry(doomed.id)).toBe(true);
      expect(await queue.retry(doomed.id)).toBe(false); // no longer dead
      await waitFor("revived job succeeded", () => finished.includes("doomed"));
      expect(calls.filter((c) => c.assetId === "doomed").at(-1)?.attempt).toBe(1);
      await waitFor("one dead left", async () => (await queue.depth())["extract-metadata"].dead === 1);
      await queue.stop();
    });

    it("never runs more handlers at once than the concurrency", async () => {
      const queue = await open();
      let inFlight = 0;
      let peak = 0;
      const { finished, handlers } = recorder(async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(60);
        inFlight--;
      });
      for (let i = 0; i < 8; i++) await queue.enqueue("extract-metadata", { assetId: `c${i}` });
      queue.start(handlers, { concurrency: 2 });
      await waitFor("all finished", () => finished.length === 8);
      expect(peak).toBe(2);
      await queue.stop();
    });

    it("holds the concurrency bound across queue instances sharing a backend, each job once", async () => {
      const a = await open();
      const b = await open();
      let inFlight = 0;
      let peak = 0;
      const { calls, finished, handlers } = recorder(async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(30);
        inFlight--;
      });
      for (let i = 0; i < 12; i++) await a.enqueue("extract-metadata", { assetId: `s${i}` });
      a.start(handlers, { concurrency: 2 });
      b.start(handlers, { concurrency: 2 });
      await waitFor("all finished", () => finished.length === 12);
      await sleep(CONTRACT_OPTIONS.pollMs * 4);
      expect(calls).toHaveLength(12);
      expect(new Set(calls.map((c) => c.assetId)).size).toBe(12);
      expect(peak).toBeLessThanOrEqual(4);
      await Promise.all([a.stop(), b.stop()]);
    });

    it("runs a job again elsewhere when its worker dies mid-job (lease expiry)", async () => {
      const first = await backend.open(CONTRACT_OPTIONS);
      instances.push(first);
      const stuck = recorder(() => new Promise<void>(() => {})); // hangs like a wedged process
      await first.queue.enqueue("extract-metadata", { assetId: "orphan" });
      first.queue.start(stuck.handlers, { concurrency: 1 });
      await waitFor("first worker started the job", () => stuck.calls.length === 1);
      await first.crash();

      const startedAt = Date.now();
      const second = await open();
      const { calls, finished, handlers } = recorder();
      second.start(handlers, { concurrency: 1 });
      await waitFor("second worker finished the job", () => finished.length === 1, CONTRACT_OPTIONS.leaseMs * 8);
      expect(calls).toEqual([{ assetId: "orphan", attempt: 2, id: stuck.calls[0]!.id }]);
      // Not before the lease ran out: the first worker could still have been alive.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(CONTRACT_OPTIONS.leaseMs / 2);
      await second.stop();
    });

    it("keeps a live worker's job past the lease time (heartbeat) so it runs once", async () => {
      const a = await open();
      const b = await open();
      const { calls, finished, handlers } = recorder((assetId) => (assetId === "long" ? sleep(CONTRACT_OPTIONS.leaseMs * 2.5) : Promise.resolve()));
      await a.enqueue("extract-metadata", { assetId: "long" });
      a.start(handlers, { concurrency: 1 });
      await waitFor("long job started", () => calls.length === 1);
      b.start(handlers, { concurrency: 1 });
      await waitFor("long job finished", () => finished.length === 1, CONTRACT_OPTIONS.leaseMs * 6);
      await sleep(CONTRACT_OPTIONS.pollMs * 4);
      expect(calls).toHaveLength(1);
      await Promise.all([a.stop(), b.stop()]);
    });

    it("keeps the lease while stop() waits for a handler that outlives it", async () => {
      const a = await open();
      const b = await open();
      const { calls, finished, handlers } = recorder(() => sleep(CONTRACT_OPTIONS.leaseMs * 2));
      await a.enqueue("extract-metadata", { assetId: "shutdown" });
      a.start(handlers, { concurrency: 1 });
      await waitFor("job started", () => calls.length === 1);
      b.start(handlers, { concurrency: 1 });
      await a.stop();
      expect(finished).toEqual(["shutdown"]);
      await sleep(CONTRACT_OPTIONS.pollMs * 4);
      expect(calls).toHaveLength(1);
      await b.stop();
    });

    it("does not run a delayed job before its time", async () => {
      const queue = await open();
      const { finished, handlers } = recorder();
      const enqueuedAt = Date.now();
      await queue.enqueue("extract-metadata", { assetId: "later" }, { delayMs: 300 });
      queue.start(handlers, { concurrency: 1 });
      await waitFor("delayed job ran", () => finished.length === 1);
      expect(Date.now() - enqueuedAt).toBeGreaterThanOrEqual(290);
      await queue.stop();
    });

    it("stop() takes no new jobs and waits for running handlers to finish", async () => {
      const queue = await open();
      const { calls, finished, handlers } = recorder(() => sleep(150));
      await queue.enqueue("extract-metadata", { assetId: "running" });
      queue.start(handlers, { concurrency: 1 });
      await waitFor("job started", () => calls.length === 1);
      await queue.enqueue("extract-metadata", { assetId: "queued" });
      await queue.stop();
      expect(finished).toEqual(["running"]);
      await sleep(CONTRACT_OPTIONS.pollMs * 4);
      expect(calls).toHaveLength(1);
      expect((await queue.depth())["extract-metadata"]).toEqual({ waiting: 1, active: 0, dead: 0 });
    });

    it("reports depth per job name: waiting, active and dead", async () => {
      const queue = await open();
      expect(await queue.depth()).toEqual(depthWith({ waiting: 0, active: 0, dead: 0 }));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { calls, handlers } = recorder(async (assetId) => {
        if (assetId === "bad") throw new Error("bad");
        if (assetId === "slow") await gate;
      });
      await queue.enqueue("extract-metadata", { assetId: "bad" }, { maxAttempts: 1 });
      await queue.enqueue("extract-metadata", { assetId: "slow" });
      await queue.enqueue("extract-metadata", { assetId: "future" }, { delayMs: 60_000 });
      expect(await queue.depth()).toEqual(depthWith({ waiting: 3, active: 0, dead: 0 }));
      queue.start(handlers, { concurrency: 2 });
      await waitFor("slow running", () => calls.some((c) => c.assetId === "slow"));
      await waitFor("bad dead", async () => (await queue.depth())["extract-metadata"].dead === 1);
      expect(await queue.depth()).toEqual(depthWith({ waiting: 1, active: 1, dead: 1 }));
      expect((await queue.list("waiting", 10)).map((j) => j.payload)).toEqual([{ assetId: "future" }]);
      expect((await queue.list("active", 10)).map((j) => j.payload)).toEqual([{ assetId: "slow" }]);
      release();
      await queue.stop();
    });
  });
}
