import { sql, type Kysely, type Migration, type SqlBool } from "kysely";
import type { SqlDialect } from "../dialect/types.js";

/**
 * The first schema (DESIGN §3). Portable column types only: `bigint` epoch milliseconds,
 * `integer` 0/1 booleans, `text` JSON; the one dialect-specific column (the event log's
 * auto-increment id) comes from the dialect module.
 *
 * Migrations take `Kysely<unknown>`: they describe the schema as it was at their time,
 * not the current `Database` interface.
 */
export function initial(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("blob")
        .addColumn("sha256", "text", (c) => c.primaryKey())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("storage_key", "text", (c) => c.notNull())
        .addColumn("sniffed_type", "text", (c) => c.notNull())
        .addColumn("refcount", "integer", (c) => c.notNull())
        .addColumn("tier", "text", (c) => c.notNull().defaultTo("hot"))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_verified_at", "bigint")
        .addColumn("replicated", "integer", (c) => c.notNull().defaultTo(0))
        .execute();

      // No foreign key to blob: a deleted asset keeps its blob_sha256 for the record
      // while gc removes the blob row once the refcount reaches 0.
      await db.schema
        .createTable("asset")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("owner", "text", (c) => c.notNull())
        .addColumn("blob_sha256", "text")
        .addColumn("filename", "text", (c) => c.notNull())
        .addColumn("declared_type", "text")
        .addColumn("content_type", "text")
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("size", "bigint")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("failure_code", "text")
        .addColumn("failure_message", "text")
        .addColumn("public", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("meta", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("deleted_at", "bigint")
        .execute();
      await db.schema.createIndex("asset_owner_id").on("asset").columns(["owner", "id"]).execute();
      await db.schema.createIndex("asset_status_id").on("asset").columns(["status", "id"]).execute();
      await db.schema.createIndex("asset_blob").on("asset").column("blob_sha256").execute();
      await db.schema.createIndex("asset_kind_id").on("asset").columns(["kind", "id"]).execute();

      await db.schema
        .createTable("asset_tag")
        .addColumn("asset_id", "text", (c) => c.notNull().references("asset.id").onDelete("cascade"))
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("asset_tag_pk", ["asset_id", "key"])
        .execute();
      await db.schema.createIndex("asset_tag_key_value").on("asset_tag").columns(["key", "value"]).execute();

      await db.schema
        .createTable("asset_event")
        .addColumn("id", dialect.autoIncrementId.type, dialect.autoIncrementId.build)
        .addColumn("asset_id", "text", (c) => c.notNull().references("asset.id").onDelete("cascade"))
        .addColumn("from_status", "text")
        .addColumn("to_status", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("asset_event_asset_id").on("asset_event").columns(["asset_id", "id"]).execute();

      // No foreign key to blob either: variants are a cache, evicted and collected on
      // their own schedule.
      await db.schema
        .createTable("variant")
        .addColumn("cache_key", "text", (c) => c.primaryKey())
        .addColumn("blob_sha256", "text", (c) => c.notNull())
        .addColumn("recipe", "text", (c) => c.notNull())
        .addColumn("storage_key", "text", (c) => c.notNull())
        .addColumn("content_type", "text", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_access_at", "bigint", (c) => c.notNull())
        .addColumn("hits", "bigint", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("variant_blob").on("variant").column("blob_sha256").execute();
      await db.schema.createIndex("variant_last_access").on("variant").column("last_access_at").execute();

      await db.schema
        .createTable("job")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("key", "text")
        .addColumn("payload", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("max_attempts", "integer", (c) => c.notNull())
        .addColumn("run_at", "bigint", (c) => c.notNull())
        .addColumn("lease_until", "bigint")
        .addColumn("lease_owner", "text")
        .addColumn("last_error", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("job_state_run_at").on("job").columns(["state", "run_at"]).execute();
      // Idempotent enqueue is the database's job: at most one live job per (name, key).
      // The enqueue's ON CONFLICT names this exact predicate (LIVE_JOB_PREDICATE).
      await db.schema
        .createIndex("job_live_key")
        .on("job")
        .columns(["name", "key"])
        .unique()
        .where(sql.raw<SqlBool>(LIVE_JOB_PREDICATE))
        .execute();
    },

    async down(db: Kysely<unknown>) {
      for (const table of ["job", "variant", "asset_event", "asset_tag", "asset", "blob"]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}

/** The partial unique index's predicate; repeated verbatim as the ON CONFLICT target. */
export const LIVE_JOB_PREDICATE = "state in ('waiting', 'active') and key is not null";
