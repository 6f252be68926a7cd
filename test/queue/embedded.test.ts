import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import type { DatabaseHandle } from "../../src/db/connect.js";
import { createEmbeddedQueue, type EmbeddedJobQueue, type EmbeddedQueueOptions } from "../../src/queue/embedded.js";
import type { Clock } from "../../src/ports/clock.js";
import { CONTRACT_OPTIONS, jobQueueContract, type ContractQueueOptions, type QueueBackend } from "../contract/job-queue.contract.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "../db/databases.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function embeddedOptions(options: ContractQueueOptions, workerId: string): EmbeddedQueueOptions {
  return {
    leaseMs: options.leaseMs,
    pollMs: options.pollMs,
    backoff: { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs, jitter: 0 },
    defaultMaxAttempts: options.defaultMaxAttempts,
    workerId,
  };
}

/**
 * The shared database of one dialect for this file (a fresh schema on PostgreSQL), emptied
 * before each test; each queue instance gets its own connection, like a separate process.
 */
function embeddedBackend(database: () => TestDatabase): () => Promise<QueueBackend> {
  return async () => {
    const db = database();
    await db.reset();
    const queues: EmbeddedJobQueue[] = [];
    const handles: DatabaseHandle[] = [];
    return {
      async open(options) {
        const handle = await db.open();
        handles.push(handle);
        const queue = createEmbeddedQueue(handle.db, handle.dialect, embeddedOptions(options, `test-${queues.length}`));
        queues.push(queue);
        return {
          queue,
          crash: async () => queue.abandon(),
        };
      },
      async dispose() {
        // Handlers left hanging by a test must not keep the suite waiting.
        await Promise.all(queues.map((q) => q.stop({ timeoutMs: 100 })));
        await Promise.all(handles.map((h) => h.close()));
      },
    };
  };
}

for (const target of await dialectTargets("embedded queue")) {
  describe.skipIf(target.skip !== undefined)(`embedded queue on ${target.dialect}`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(target.dialect);
    });
    afterAll(async () => {
      await database?.dispose();
    });

    jobQueueContract(`embedded (${target.dialect})`, embeddedBackend(() => database));

    describe("embedded specifics", () => {
      let queues: EmbeddedJobQueue[];
      const open = async (options: EmbeddedQueueOptions = {}) => {
        const handle = await database.open();
        const queue = createEmbeddedQueue(handle.db, handle.dialect, { ...embeddedOptions(CONTRACT_OPTIONS, "specifics"), ...options });
        queues.push(queue);
        return queue;
      };
      beforeEach(async () => {
        await database.reset();
        queues = [];
      });
      afterEach(async () => {
        await Promise.all(queues.map((q) => q.stop({ timeoutMs: 100 })));
      });

      it("keeps jobs across a restart: they are rows in the database", async () => {
        const before = await database.open();
        const producer = createEmbeddedQueue(before.db, before.dialect, embeddedOptions(CONTRACT_OPTIONS, "before"));
        await producer.enqueue("extract-metadata", { assetId: "durable" }, { key: "durable" });
        await before.close();

        const ran: string[] = [];
        const consumer = await open();
        expect((await consumer.depth())["extract-metadata"].waiting).toBe(1);
        consumer.start({ "extract-metadata": async ({ assetId }) => void ran.push(assetId) }, { concurrency: 1 });
        for (let i = 0; i < 200 && ran.length === 0; i++) await sleep(10);
        expect(ran).toEqual(["durable"]);
      });

      it("stop with a timeout aborts a stuck handler and gives its job back without spending an attempt", async () => {
        const first = await open();
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
        for (let i = 0; i < 200 && (await first.depth())["extract-metadata"].active === 0; i++) await sleep(10);
        await first.stop({ timeoutMs: 50 });
        expect(aborted).toBe(true);
        const [job] = await first.list("waiting", 10);
        expect(job).toMatchObject({ attempts: 0, state: "waiting" });

        // Another worker starts it at once, without waiting for a lease to expire.
        const attempts: number[] = [];
        const second = await open();
        second.start({ "extract-metadata": async (_payload, ctx) => void attempts.push(ctx.attempt) }, { concurrency: 1 });
        for (let i = 0; i < 100 && attempts.length === 0; i++) await sleep(10);
        expect(attempts).toEqual([1]);
      });

      it("counts a worker lost during the last attempt as the final failure", async () => {
        const first = await open({ leaseMs: 150 });
        await first.enqueue("extract-metadata", { assetId: "poison" }, { maxAttempts: 1 });
        first.start({ "extract-metadata": () => new Promise<void>(() => {}) }, { concurrency: 1 });
        for (let i = 0; i < 200 && (await first.depth())["extract-metadata"].active === 0; i++) await sleep(10);
        first.abandon();

        let ran = false;
        const second = await open({ leaseMs: 150 });
        second.start({ "extract-metadata": async () => void (ran = true) }, { concurrency: 1 });
        for (let i = 0; i < 200 && (await second.depth())["extract-metadata"].dead === 0; i++) await sleep(10);
        expect(ran).toBe(false);
        const [dead] = await second.list("dead", 10);
        expect(dead?.lastError).toMatch(/lease expired/);
      });

      it("aborts the handler when another worker has taken its lease", async () => {
        const queue = await open({ leaseMs: 300, heartbeatMs: 50 });
        let signal: AbortSignal | undefined;
        await queue.enqueue("extract-metadata", { assetId: "stolen" });
        queue.start(
          {
            "extract-metadata": (_payload, ctx) =>
              new Promise<void>((resolve) => {
                signal = ctx.signal;
                ctx.signal.addEventListener("abort", () => resolve());
              }),
          },
          { concurrency: 1 },
        );
        for (let i = 0; i < 200 && !signal; i++) await sleep(10);
        // As if this worker had stalled past its lease and another had claimed the job.
        await database.handle.db.updateTable("job").set({ lease_owner: "someone-else" }).execute();
        for (let i = 0; i < 100 && !signal!.aborted; i++) await sleep(10);
        expect(signal!.aborted).toBe(true);
        // The new owner's row is left alone.
        expect((await database.handle.db.selectFrom("job").select(["state", "lease_owner"]).executeTakeFirst())).toEqual({ state: "active", lease_owner: "someone-else" });
      });

      it("prunes finished jobs older than the retention", async () => {
        const queue = await open();
        const ran: string[] = [];
        await queue.enqueue("extract-metadata", { assetId: "old" });
        queue.start({ "extract-metadata": async ({ assetId }) => void ran.push(assetId) }, { concurrency: 1 });
        for (let i = 0; i < 200 && (await queue.list("done", 10)).length === 0; i++) await sleep(10);
        await queue.stop();
        expect(await queue.list("done", 10)).toHaveLength(1);

        const twoDaysLater: Clock = { now: () => Date.now() + 2 * 86_400_000 };
        const later = await open({ clock: twoDaysLater });
        later.start({ "extract-metadata": async () => {} }, { concurrency: 1 });
        for (let i = 0; i < 200 && (await later.list("done", 10)).length > 0; i++) await sleep(10);
        expect(await later.list("done", 10)).toEqual([]);
      });
    });
  });
}
