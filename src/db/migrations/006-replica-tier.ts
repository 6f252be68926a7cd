import type { Kysely, Migration } from "kysely";

/**
 * What the store-care passes need on `blob` (DESIGN §10 "Operations"):
 *
 * - `last_read_at`: when the bytes were last read for delivery or a render, recorded in
 *   batches (never one write per request), so lifecycle can move content nobody reads to
 *   the cold tier. NULL until the first recorded read; lifecycle then counts from
 *   `created_at`.
 * - `blob_verified`: scrub walks blobs oldest `last_verified_at` first.
 * - `blob_tier_read`: lifecycle finds hot blobs not read since a cut-off.
 */
export const replicaTier: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("blob").addColumn("last_read_at", "bigint").execute();
    await db.schema.createIndex("blob_verified").on("blob").columns(["last_verified_at"]).execute();
    await db.schema.createIndex("blob_tier_read").on("blob").columns(["tier", "last_read_at"]).execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("blob_tier_read").execute();
    await db.schema.dropIndex("blob_verified").execute();
    await db.schema.alterTable("blob").dropColumn("last_read_at").execute();
  },
};
