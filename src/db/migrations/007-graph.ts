import type { Kysely, Migration } from "kysely";

/**
 * The transformation graph: each variant row names the variant it was derived from
 * (`parent`, the cache key of an intermediate rung; null when rendered from the original).
 */
export const graph: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("variant").addColumn("parent", "text").execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("variant").dropColumn("parent").execute();
  },
};
