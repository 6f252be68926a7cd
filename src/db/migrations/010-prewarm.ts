import type { Kysely, Migration } from "kysely";

/**
 * Demand prediction (prewarm). `recipe_demand` counts requests per owner, asset kind,
 * canonical recipe and day (epoch day), written in batches by the delivery path, so the
 * recipes an owner's assets of a kind are asked for most in a recent window are one
 * grouped read. `prewarm_variant` marks variants a prewarm rendered, once each; a later
 * request of one sets `requested_at` (once), which is the figure that tells whether
 * prediction pays. Rows outlive the variant itself (eviction, gc): they are its history.
 */
export const prewarm: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("recipe_demand")
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("recipe", "text", (c) => c.notNull())
      .addColumn("day", "bigint", (c) => c.notNull())
      .addColumn("requests", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("recipe_demand_pk", ["owner", "kind", "day", "recipe"])
      .execute();
    await db.schema.createTable("prewarm_variant")
      .addColumn("cache_key", "text", (c) => c.primaryKey())
      .addColumn("asset_id", "text", (c) => c.notNull())
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("recipe", "text", (c) => c.notNull())
      .addColumn("rendered_at", "bigint", (c) => c.notNull())
      .addColumn("requested_at", "bigint")
      .execute();
    await db.schema.createIndex("prewarm_variant_owner").on("prewarm_variant").columns(["owner", "rendered_at"]).execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("prewarm_variant").ifExists().execute();
    await db.schema.dropTable("recipe_demand").ifExists().execute();
  },
};
