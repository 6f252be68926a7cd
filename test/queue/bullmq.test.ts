/**
 * The BullMQ queue against a real Redis (ASSETD_TEST_REDIS_URL, default 127.0.0.1:6379):
 * the shared JobQueue contract, plus what only a Redis backend shows. Every backend gets a
 * fresh random key prefix whose keys are deleted afterwards. When Redis is down the suite
 * is skipped with the reason printed, never silently.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { JobHandlers } from "../../src/ports/job-queue.js";
import { createBullQueue, type BullJobQueue, type BullQueueOptions } from "../../src/queue/bullmq.js";
import { CONTRACT_OPTIONS, jobQueueContract, type ContractQueueOptions, type QueueBackend } from "../contract/job-queue.contract.js";
import { deleteKeysStartingWith, probeRedis, REDIS_URL } from "../helpers/redis.js";

const QUEUE_MODULE = pathToFileURL(fileURLToPath(new URL("../../src/queue/bullmq.ts", import.meta.url))).href;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}



const newPrefix = () => `assetd-test-${randomBytes(6).toString("hex")}`;

function bullOptions(options: ContractQueueOptions, prefix: string, workerName: string): BullQueueOptions {
  return {
    redisUrl: REDIS_URL,
    prefix,
    leaseMs: options.leaseMs,
    backoff: { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs, jitter: 0 },
    defaultMaxAttempts: options.defaultMaxAttempts,
    workerName,
  };
}

/** One Redis key prefix shared by the instances a test opens, like processes sharing a Redis. */
function bullBackend(): Promise<QueueBackend> {
  const prefix = newPrefix();
  const queues: BullJobQueue[] = [];
  return Promise.resolve({
    async open(options) {
      const queue = createBullQueue(bullOptions(options, prefix, `test-${queues.length}`));
      queues.push(queue);
      return { queue, crash: () => queue.abandon() };
    },
    async dispose() {
      // Handlers left hanging by a test must not keep the suite waiting.
      await Promise.all(queues.map(async (q) => q.stop({ timeoutMs: 100 }).then(() => q.close())));
      await deleteKeysStartingWith(`${prefix}:`);
    },
  });
}

const redisSkip = await probeRedis(REDIS_URL);
if (redisSkip) console.warn(`[bullmq queue] skipping: ${redisSkip}`);

describe.skipIf(redisSkip !== undefined)("bullmq queue", () => {
  jobQueueContract("bullmq", bullBackend);

  describe("bullmq specifics", () => {
    let prefix: string;
    let queues: BullJobQueue[];
    let redis: Redis;
    const open = (overrides: Partial<BullQueueOptions> = {}) => {
      const queue = createBullQueue({ ...bullOptions(CONTRACT_OPTIONS, prefix, `specifics-${queues.length}`), ...overrides });
      queues.push(queue);
      return queue;
    };
    const recorder = () => {
      const runs: Array<{ assetId: string; attempt: number; id: string }> = [];
      const handlers: JobHandlers = {
        "extract-metadata": async ({ assetId }, ctx) => void runs.push({ assetId, attempt: ctx.attempt, id: ctx.id }),
      };
      return { runs, handlers };
    };

    beforeEach(() => {
      prefix = newPrefix();
      queues = [];
      redis = new Redis(REDIS_URL);
    });
    afterEach(async () => {
      await Promise.all(queues.map(async (q) => q.stop({ timeoutMs: 100 }).then(() => q.close())));
      redis.disconnect();
      await deleteKeysStartingWith(`${prefix}:`);
    });

    it("picks up the job of a worker process killed with SIGKILL mid-job", async () => {
      const producer = open();
      await producer.enqueue("extract-metadata", { assetId: "killed" }, { key: "killed" });

      const script = `
        const { createBullQueue } = await import(${JSON.stringify(QUEUE_MODULE)});
        const queue = createBullQueue({ redisUrl: ${JSON.stringify(REDIS_URL)}, prefix: ${JSON.stringify(prefix)}, leaseMs: ${CONTRACT_OPTIONS.leaseMs} });
        queue.start({
          "extract-metadata": async (payload, ctx) => {
            console.log(JSON.stringify({ started: ctx.id, attempt: ctx.attempt, assetId: payload.assetId }));
            await new Promise(() => {}); // wedged until killed
          },
        }, { concurrency: 1 });
      `;
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
      try {
        await waitFor("the child process started the job", () => output.includes('"started"'), 20_000);
      } catch (error) {
        child.kill("SIGKILL");
        throw new Error(`${String(error)}\nchild output:\n${output}`);
      }
      const started = JSON.parse(output.split("\n").find((line) => line.includes('"started"'))!) as { started: string; attempt: number };
      expect(started.attempt).toBe(1);
      expect((await producer.depth())["extract-metadata"].active).toBe(1);

      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      const killedAt = Date.now();

      const survivor = open();
      const { runs, handlers } = recorder();
      survivor.start(handlers, { concurrency: 1 });
      await waitFor("another instance completed the job", () => runs.length === 1, CONTRACT_OPTIONS.leaseMs * 8);
      expect(runs).toEqual([{ assetId: "killed", attempt: 2, id: started.started }]);
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(CONTRACT_OPTIONS.leaseMs / 2);
      await waitFor("recorded as done", async () => (await survivor.list("done", 10)).length === 1);
      expect((await survivor.list("done", 10))[0]).toMatchObject({ id: started.started, key: "killed", attempts: 2, state: "done" });
      expect((await survivor.depth())["extract-metadata"]).toEqual({ waiting: 0, active: 0, dead: 0 });
    });

    it("stop with a timeout aborts a stuck handler and gives its job back without spending an attempt", async () => {
      const first = open();
      let aborted = false;
      await first.enqueue("extract-metadata", { assetId: "stuck" });
      first.start(
        {
          "extract-metadata": (_payload, ctx) =>
            new Promise<void>((_resolve, reject) => {
              ctx.signal.addEventListener("abort", () => {
                aborted = true;
                reject(new Error("aborted"));
              });
            }),
        },
        { concurrency: 1 },
      );
      await waitFor("job active", async () => (await first.depth())["extract-metadata"].active === 1);
      await first.stop({ timeoutMs: 50 });
      expect(aborted).toBe(true);
      const [job] = await first.list("waiting", 10);
      expect(job).toMatchObject({ attempts: 0, state: "waiting", lastError: null });

      // Another worker starts it at once, without waiting for the lock to lapse.
      const second = open();
      const { runs, handlers } = recorder();
      const startedAt = Date.now();
      second.start(handlers, { concurrency: 1 });
      await waitFor("second worker ran it", () => runs.length === 1, 2000);
      expect(runs[0]?.attempt).toBe(1);
      expect(Date.now() - startedAt).toBeLessThan(CONTRACT_OPTIONS.leaseMs);
    });

    it("counts a worker lost during the last attempt as the final failure", async () => {
      const first = open();
      await first.enqueue("extract-metadata", { assetId: "poison" }, { maxAttempts: 1 });
      first.start({ "extract-metadata": () => new Promise<void>(() => {}) }, { concurrency: 1 });
      await waitFor("job active", async () => (await first.depth())["extract-metadata"].active === 1);
      await first.abandon();

      const second = open();
      const { runs, handlers } = recorder();
      second.start(handlers, { concurrency: 1 });
      await waitFor("job dead", async () => (await second.depth())["extract-metadata"].dead === 1, CONTRACT_OPTIONS.leaseMs * 8);
      expect(runs).toEqual([]);
      const [dead] = await second.list("dead", 10);
      expect(dead?.lastError).toMatch(/lease expired/);
    });

    it("aborts the handler's signal when the job's lock is lost", async () => {
      const queue = open();
      let signal: AbortSignal | undefined;
      let jobId = "";
      await queue.enqueue("extract-metadata", { assetId: "stolen" });
      queue.start(
        {
          "extract-metadata": (_payload, ctx) =>
            new Promise<void>((resolve) => {
              signal = ctx.signal;
              jobId = ctx.id;
              ctx.signal.addEventListener("abort", () => resolve());
            }),
        },
        { concurrency: 1 },
      );
      await waitFor("handler running", () => signal !== undefined);
      // As if this worker had stalled past its lock and another had taken the job.
      await redis.del(`${prefix}:extract-metadata:${jobId}:lock`);
      await waitFor("signal aborted", () => signal!.aborted, CONTRACT_OPTIONS.leaseMs * 3);
      expect(String((signal!.reason as Error).message)).toMatch(/lease lost/);
    });

    it("a revived dead job holds its key again, and is not revived while another job holds it", async () => {
      const queue = open();
      await queue.enqueue("extract-metadata", { assetId: "a" }, { key: "k", maxAttempts: 1 });
      let healthy = false;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const runs: string[] = [];
      queue.start(
        {
          "extract-metadata": async ({ assetId }) => {
            runs.push(assetId);
            if (!healthy) throw new Error("broken");
            await gate;
          },
        },
        { concurrency: 2 },
      );
      await waitFor("dead", async () => (await queue.depth())["extract-metadata"].dead === 1);
      const [dead] = await queue.list("dead", 10);

      // While a newer job with the same key is live, the dead one stays dead.
      healthy = true;
      await queue.enqueue("extract-metadata", { assetId: "b" }, { key: "k" });
      await waitFor("b running", () => runs.includes("b"));
      expect(await queue.retry(dead!.id)).toBe(false);
      release();
      await waitFor("b done", async () => (await queue.list("done", 10)).length === 1);

      // Revived, it holds the key: an enqueue with the same key is a no-op.
      await queue.stop();
      expect(await queue.retry(dead!.id)).toBe(true);
      await queue.enqueue("extract-metadata", { assetId: "c" }, { key: "k" });
      expect((await queue.depth())["extract-metadata"]).toEqual({ waiting: 1, active: 0, dead: 0 });
      expect((await queue.list("waiting", 10)).map((j) => j.payload)).toEqual([{ assetId: "a" }]);
    });

    it("keeps deployments with different prefixes apart", async () => {
      const other = newPrefix();
      const mine = open();
      const theirs = open({ prefix: other });
      try {
        await theirs.enqueue("extract-metadata", { assetId: "theirs" });
        expect((await mine.depth())["extract-metadata"].waiting).toBe(0);
        expect((await theirs.depth())["extract-metadata"].waiting).toBe(1);
      } finally {
        await theirs.close();
        await deleteKeysStartingWith(`${other}:`);
      }
    });
  });
});
