import { sql, type Kysely, type Selectable, type SqlBool } from "kysely";
import type { SqlDialect } from "../db/dialect/types.js";
import { LIVE_JOB_PREDICATE } from "../db/migrations/001-initial.js";
import type { Database, JobTable } from "../db/schema.js";
import type { JobInfo, JobName, JobState } from "../ports/job-queue.js";

/**
 * The job table's statements. Every state change after a claim is guarded by the lease
 * owner token, so a worker that lost its lease (it stalled, the job was claimed again)
 * cannot overwrite the new owner's outcome.
 */

export interface NewJob {
  id: string;
  name: JobName;
  key: string | null;
  payload: unknown;
  maxAttempts: number;
  runAt: number;
  now: number;
}

export interface ClaimedJob {
  id: string;
  name: JobName;
  payload: unknown;
  /** Including this one. */
  attempts: number;
  maxAttempts: number;
  leaseOwner: string;
}

export function toJobInfo(row: Selectable<JobTable>): JobInfo {
  return {
    id: row.id,
    name: row.name as JobName,
    key: row.key,
    payload: JSON.parse(row.payload) as unknown,
    state: row.state as JobState,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: Number(row.run_at),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export type JobStore = ReturnType<typeof createJobStore>;

export function createJobStore(db: Kysely<Database>, dialect: SqlDialect) {
  const claimable = (names: readonly string[], now: number) =>
    db
      .selectFrom("job")
      .select("id")
      .where("name", "in", [...names])
      .where((eb) =>
        eb.or([
          eb.and([eb("state", "=", "waiting"), eb("run_at", "<=", now)]),
          // A lease that ran out belongs to a worker that crashed or stalled: take it over.
          eb.and([eb("state", "=", "active"), eb("lease_until", "<", now)]),
        ]),
      )
      .orderBy("run_at")
      .orderBy("id")
      .limit(1);

  return {
    /** False when a live job with the same name and key exists (the partial unique index). */
    async insert(job: NewJob): Promise<boolean> {
      const result = await db
        .insertInto("job")
        .values({
          id: job.id,
          name: job.name,
          key: job.key,
          payload: JSON.stringify(job.payload ?? null),
          state: "waiting",
          attempts: 0,
          max_attempts: job.maxAttempts,
          run_at: job.runAt,
          created_at: job.now,
          updated_at: job.now,
        })
        // The conflict target names the partial index by repeating its predicate.
        .onConflict((oc) => oc.columns(["name", "key"]).where(sql.raw<SqlBool>(LIVE_JOB_PREDICATE)).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    /** Cheap pre-check without a write lock, so idle pollers do not queue for one. */
    async hasClaimable(names: readonly string[], now: number): Promise<boolean> {
      return (await claimable(names, now).executeTakeFirst()) !== undefined;
    },

    /** Atomically takes the next due job (or an expired lease) and counts the attempt. */
    async claim(names: readonly string[], now: number, leaseMs: number, leaseOwner: string): Promise<ClaimedJob | undefined> {
      const row = await db
        .updateTable("job")
        .set((eb) => ({
          state: "active",
          attempts: eb("attempts", "+", 1),
          lease_until: now + leaseMs,
          lease_owner: leaseOwner,
          updated_at: now,
        }))
        .where("id", "=", dialect.skipLocked(claimable(names, now)))
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        id: row.id,
        name: row.name as JobName,
        payload: JSON.parse(row.payload) as unknown,
        attempts: Number(row.attempts),
        maxAttempts: Number(row.max_attempts),
        leaseOwner,
      };
    },

    /** Heartbeat. False when the lease is no longer ours. */
    async extend(id: string, leaseOwner: string, leaseUntil: number, now: number): Promise<boolean> {
      const result = await db
        .updateTable("job")
        .set({ lease_until: leaseUntil, updated_at: now })
        .where("id", "=", id)
        .where("state", "=", "active")
        .where("lease_owner", "=", leaseOwner)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Ends an attempt: done, back to waiting at `runAt`, or dead. False when the lease was lost. */
    async settle(id: string, leaseOwner: string, outcome: { state: "done" | "waiting" | "dead"; runAt?: number; error?: string; now: number }): Promise<boolean> {
      const result = await db
        .updateTable("job")
        .set({
          state: outcome.state,
          lease_until: null,
          lease_owner: null,
          updated_at: outcome.now,
          ...(outcome.runAt !== undefined ? { run_at: outcome.runAt } : {}),
          ...(outcome.error !== undefined ? { last_error: outcome.error } : {}),
        })
        .where("id", "=", id)
        .where("state", "=", "active")
        .where("lease_owner", "=", leaseOwner)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Gives a job back without counting the attempt (the worker is shutting down). */
    async release(id: string, leaseOwner: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable("job")
        .set((eb) => ({
          state: "waiting",
          attempts: sql<number>`case when ${eb.ref("attempts")} > 0 then ${eb.ref("attempts")} - 1 else 0 end`,
          run_at: now,
          lease_until: null,
          lease_owner: null,
          updated_at: now,
        }))
        .where("id", "=", id)
        .where("state", "=", "active")
        .where("lease_owner", "=", leaseOwner)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async countByNameAndState(): Promise<Array<{ name: string; state: string; n: number }>> {
      const rows = await db
        .selectFrom("job")
        .select((eb) => ["name", "state", eb.fn.countAll().as("n")])
        .where("state", "in", ["waiting", "active", "dead"])
        .groupBy(["name", "state"])
        .execute();
      return rows.map((r) => ({ name: r.name, state: r.state, n: Number(r.n) }));
    },

    async list(state: JobState, limit: number): Promise<JobInfo[]> {
      const rows = await db
        .selectFrom("job")
        .selectAll()
        .where("state", "=", state)
        .orderBy("updated_at", "desc")
        .orderBy("id", "desc")
        .limit(Math.max(0, Math.trunc(limit)))
        .execute();
      return rows.map(toJobInfo);
    },

    /**
     * dead -> waiting with a fresh attempt budget. False when the job is not dead, or when
     * a live job with the same name and key already exists (the work is queued anyway).
     */
    async retry(id: string, now: number): Promise<boolean> {
      try {
        const result = await db
          .updateTable("job")
          .set({ state: "waiting", attempts: 0, run_at: now, lease_until: null, lease_owner: null, updated_at: now })
          .where("id", "=", id)
          .where("state", "=", "dead")
          .executeTakeFirst();
        return result.numUpdatedRows > 0n;
      } catch (error) {
        if (dialect.isUniqueViolation(error)) return false;
        throw error;
      }
    },

    /** Deletes finished jobs last touched before `before`; returns how many. */
    async pruneDone(before: number): Promise<number> {
      const result = await db.deleteFrom("job").where("state", "=", "done").where("updated_at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
