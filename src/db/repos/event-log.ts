import type { Kysely } from "kysely";
import type { EventLogRepo } from "../../ports/repos.js";
import type { Database } from "../schema.js";

/**
 * The batch the retention pass deletes: events older than `before`, found through the
 * time index (BRIN on PostgreSQL, B-tree on SQLite). Exported so its plan can be checked.
 */
export function expiredEventsQuery(db: Kysely<Database>, before: number, limit: number) {
  return db.selectFrom("asset_event").select("id").where("at", "<", before).limit(limit);
}

export function createEventLogRepo(db: Kysely<Database>): EventLogRepo {
  return {
    async pruneBefore(before, limit) {
      // Batched, so a first pass over years of events holds no long transaction; neither
      // dialect has DELETE ... LIMIT, hence the id subquery.
      const result = await db.deleteFrom("asset_event")
        .where("id", "in", expiredEventsQuery(db, before, Math.max(1, Math.trunc(limit))))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
