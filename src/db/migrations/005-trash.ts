import { sql, type Kysely, type Migration } from "kysely";

/**
 * Trash with a restore window, and a garbage collector that the database arbitrates
 * (DESIGN §10 "Operations").
 *
 * `asset.trashed_from` is the status a deleted asset had (what a restore brings back);
 * `asset.purged_at` says when its trash entry ended (expired or purged) and its reference
 * on the content was released. A deleted asset with `purged_at` NULL is in the trash and
 * still counts in its blob's refcount, so a restore never finds its bytes gone.
 *
 * `blob.state` is `live`, `collecting` (gc is removing this incarnation's objects) or
 * `gone` (a tombstone: the bytes are removed, the row stays as the fencing record).
 * `blob.generation` numbers the incarnations of one content hash; each incarnation has its
 * own raw object key, so a gc that lost its lock and deletes late only ever removes the
 * incarnation it claimed. `released_at` is when the refcount last fell to 0 (the grace
 * period counts from it).
 *
 * `stat_counter` keeps fleet-wide counters (cache hits, renders, bytes collected) that
 * every process adds its increments to, so `/v1/stats` survives restarts.
 *
 * `maintenance_run` is the scheduler's lease and log: one row per pass (gc, sweep, …);
 * a worker runs a pass only after winning a compare-and-set on `lease_until`, so each
 * runs once per interval across the deployment, and the last outcome and report stay.
 *
 * Assets deleted before this migration already gave their reference back: they are purged.
 */
export const trash: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("asset").addColumn("trashed_from", "text").execute();
    await db.schema.alterTable("asset").addColumn("purged_at", "bigint").execute();
    await sql`update asset set purged_at = coalesce(deleted_at, updated_at) where status = 'deleted'`.execute(db);
    await db.schema.createIndex("asset_trash").on("asset").columns(["status", "purged_at", "deleted_at"]).execute();

    await db.schema.alterTable("blob").addColumn("state", "text", (c) => c.notNull().defaultTo("live")).execute();
    await db.schema.alterTable("blob").addColumn("generation", "integer", (c) => c.notNull().defaultTo(1)).execute();
    await db.schema.alterTable("blob").addColumn("released_at", "bigint").execute();
    await sql`update blob set released_at = created_at where refcount = 0`.execute(db);
    await db.schema.createIndex("blob_collectable").on("blob").columns(["refcount", "state", "released_at"]).execute();

    await db.schema
      .createTable("stat_counter")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();

    await db.schema
      .createTable("maintenance_run")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("holder", "text")
      .addColumn("lease_until", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("started_at", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("finished_at", "bigint")
      .addColumn("outcome", "text")
      .addColumn("report", "text")
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("maintenance_run").execute();
    await db.schema.dropTable("stat_counter").execute();
    await db.schema.dropIndex("blob_collectable").execute();
    await db.schema.alterTable("blob").dropColumn("released_at").execute();
    await db.schema.alterTable("blob").dropColumn("generation").execute();
    await db.schema.alterTable("blob").dropColumn("state").execute();
    await db.schema.dropIndex("asset_trash").execute();
    await db.schema.alterTable("asset").dropColumn("purged_at").execute();
    await db.schema.alterTable("asset").dropColumn("trashed_from").execute();
  },
};
