import type { Kysely, Migration } from "kysely";

/**
 * `asset.phash`: the 64-bit perceptual hash of an image (DESIGN §3, §5 similar), the same
 * bits as `meta.phash` held as a signed 64-bit integer so the database can compute Hamming
 * distances (dialect `hammingDistance`) instead of the API loading every hash. NULL for
 * everything that is not a decoded image.
 *
 * No index: B-trees answer "equal" and "between", not "few bits apart", so the search is a
 * scan of the candidate rows with a cheap function per row. Assets described before this
 * migration have no hash in their meta either, so there is nothing to backfill.
 */
export const phash: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("asset").addColumn("phash", "bigint").execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("asset").dropColumn("phash").execute();
  },
};
