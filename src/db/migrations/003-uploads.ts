import { sql, type Kysely, type Migration } from "kysely";

/**
 * Upload sessions and quotas (DESIGN §3).
 *
 * `upload` holds one row per direct-to-storage or resumable upload while its asset is
 * `pending`: where the bytes are staged, what the client promised (size, sha256) and how
 * many bytes of the owner's quota the session holds. Completion, abort and the expiry
 * sweep delete the row in the same transaction that moves the asset on.
 *
 * `quota` keeps, per owner, the logical bytes of live assets (`used_bytes`) and the bytes
 * promised to open sessions (`reserved_bytes`), so "does this fit" is one conditional
 * UPDATE. `max_bytes` NULL means "the configured default". Existing assets are counted
 * here once; from then on ingest, completion and deletion keep the sums.
 */
export const uploads: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("upload")
      .addColumn("asset_id", "text", (c) => c.primaryKey().references("asset.id").onDelete("cascade"))
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("staging_key", "text", (c) => c.notNull())
      .addColumn("content_type", "text", (c) => c.notNull())
      .addColumn("expected_size", "bigint", (c) => c.notNull())
      .addColumn("expected_sha256", "text")
      .addColumn("multipart_id", "text")
      .addColumn("part_size", "bigint")
      .addColumn("reserved_bytes", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("upload_expires_at").on("upload").column("expires_at").execute();

    await db.schema
      .createTable("quota")
      .addColumn("owner", "text", (c) => c.primaryKey())
      .addColumn("max_bytes", "bigint")
      .addColumn("used_bytes", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("reserved_bytes", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();

    await sql`
      insert into quota (owner, max_bytes, used_bytes, reserved_bytes)
      select owner, null, sum(size), 0 from asset
      where status not in ('pending', 'deleted') and size is not null
      group by owner
    `.execute(db);
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("quota").execute();
    await db.schema.dropTable("upload").execute();
  },
};
