import type { Kysely } from "kysely";
import type { PassRepo, PassRun } from "../../ports/scheduler.js";
import type { Database } from "../schema.js";

export function createPassRepo(db: Kysely<Database>): PassRepo {
  return {
    async tryStart(name, holder, now, intervalMs, leaseUntil, force = false) {
      await db.insertInto("maintenance_run").values({ name, lease_until: 0, started_at: 0 })
        .onConflict((oc) => oc.column("name").doNothing()).execute();
      let q = db.updateTable("maintenance_run").set({ holder, lease_until: leaseUntil, started_at: now })
        .where("name", "=", name).where("lease_until", "<", now);
      if (!force) q = q.where("started_at", "<=", now - intervalMs);
      const result = await q.executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async renew(name, holder, leaseUntil) {
      const result = await db.updateTable("maintenance_run").set({ lease_until: leaseUntil })
        .where("name", "=", name).where("holder", "=", holder).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async finish(name, holder, at, outcome, report) {
      await db.updateTable("maintenance_run")
        .set({ lease_until: 0, finished_at: at, outcome, report: JSON.stringify(report ?? null) })
        .where("name", "=", name).where("holder", "=", holder).execute();
    },
    async list() {
      const rows = await db.selectFrom("maintenance_run").selectAll().orderBy("name").execute();
      return rows.map((r): PassRun => ({
        name: r.name, holder: r.holder, leaseUntil: Number(r.lease_until), startedAt: Number(r.started_at),
        finishedAt: r.finished_at === null ? null : Number(r.finished_at),
        outcome: r.outcome as PassRun["outcome"], report: r.report === null ? null : (JSON.parse(r.report) as unknown),
      }));
    },
  };
}
