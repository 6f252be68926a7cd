import { sql, type Kysely, type Migration } from "kysely";
import type { SqlDialect } from "../dialect/types.js";

/**
 * Time-range indexes for the tables that grow with traffic (the event log, the assets).
 *
 * The event log is append-only and bounded by retention (`ASSETD_EVENT_RETENTION_DAYS`,
 * services/event-retention.ts) rather than partitioned: rows arrive in time order, so on
 * PostgreSQL a BRIN index on `at` (a few pages for millions of rows) finds a time range
 * as well as a B-tree would, and the retention pass deletes the oldest ranges in batches.
 * Monthly partitions would need the time in every primary and unique key, a partition
 * maintenance job, and a second table design for SQLite, for the same effect at the sizes
 * one service's event log reaches. `asset.created_at` gets a BRIN index for the same
 * reason (ids are ULIDs, so rows are in creation order too).
 *
 * SQLite has no BRIN: a B-tree on `asset_event.at` serves the retention pass there.
 */
export function eventRetention(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect.name === "postgres") {
        await sql`create index asset_event_at_brin on asset_event using brin (at)`.execute(db);
        await sql`create index asset_created_at_brin on asset using brin (created_at)`.execute(db);
      } else {
        await db.schema.createIndex("asset_event_at").on("asset_event").column("at").execute();
      }
    },
    async down(db: Kysely<unknown>) {
      if (dialect.name === "postgres") {
        await sql`drop index if exists asset_event_at_brin`.execute(db);
        await sql`drop index if exists asset_created_at_brin`.execute(db);
      } else {
        await db.schema.dropIndex("asset_event_at").ifExists().execute();
      }
    },
  };
}
