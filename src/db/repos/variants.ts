import { sql, type Kysely } from "kysely";
import type { VariantRepo } from "../../ports/repos.js";
import { fromVariantRow, toVariantRow } from "../rows.js";
import type { Database } from "../schema.js";

export function createVariantRepo(db: Kysely<Database>): VariantRepo {
  return {
    async get(cacheKey) {
      const row = await db.selectFrom("variant").selectAll().where("cache_key", "=", cacheKey).executeTakeFirst();
      return row && toVariantRow(row);
    },

    async put(row) {
      await db
        .insertInto("variant")
        .values(fromVariantRow(row))
        .onConflict((oc) =>
          oc.column("cache_key").doUpdateSet((eb) => ({
            blob_sha256: eb.ref("excluded.blob_sha256"),
            recipe: eb.ref("excluded.recipe"),
            storage_key: eb.ref("excluded.storage_key"),
            content_type: eb.ref("excluded.content_type"),
            size: eb.ref("excluded.size"),
            created_at: eb.ref("excluded.created_at"),
            last_access_at: eb.ref("excluded.last_access_at"),
            hits: eb.ref("excluded.hits"),
            parent: eb.ref("excluded.parent"),
          })),
        )
        .execute();
    },

    async recordHits(hits) {
      if (hits.size === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const [cacheKey, { count, at }] of hits) {
          await trx
            .updateTable("variant")
            .set((eb) => ({
              hits: eb("hits", "+", count),
              // Batches may arrive out of order: last access only ever moves forward.
              last_access_at: sql<number>`case when ${eb.ref("last_access_at")} < ${at} then ${at} else ${eb.ref("last_access_at")} end`,
            }))
            .where("cache_key", "=", cacheKey)
            .execute();
        }
      });
    },

    async listByBlob(blobSha256) {
      const rows = await db.selectFrom("variant").selectAll().where("blob_sha256", "=", blobSha256).orderBy("cache_key").execute();
      return rows.map(toVariantRow);
    },

    async delete(cacheKeys) {
      if (cacheKeys.length === 0) return;
      await db.deleteFrom("variant").where("cache_key", "in", [...cacheKeys]).execute();
    },

    async countByBlob(blobSha256) {
      const row = await db.selectFrom("variant").select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where("blob_sha256", "=", blobSha256).where("recipe", "not like", "intermediate=%").executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async totalSize() {
      const row = await db.selectFrom("variant").select((eb) => eb.fn.sum<string | number | null>("size").as("bytes")).executeTakeFirstOrThrow();
      return Number(row.bytes ?? 0);
    },

    async leastRecentlyUsed(limit) {
      const rows = await db.selectFrom("variant").selectAll()
        .orderBy("last_access_at", "asc").orderBy("hits", "asc").orderBy("cache_key").limit(limit).execute();
      return rows.map(toVariantRow);
    },

    async evict(cacheKey, createdAt) {
      const result = await db.deleteFrom("variant").where("cache_key", "=", cacheKey).where("created_at", "=", createdAt)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
