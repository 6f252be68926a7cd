import { sql, type Kysely } from "kysely";
import type { BlobCareRepo, Tier, TierUsage } from "../../ports/blob-care.js";
import type { AssetStatus } from "../../domain/states.js";
import { toBlobRow } from "../rows.js";
import type { Database } from "../schema.js";

/** The BlobCareRepo port over Kysely (SQLite and PostgreSQL alike). */
export function createBlobCareRepo(db: Kysely<Database>): BlobCareRepo {
  return {
    async leastRecentlyVerified(limit) {
      const rows = await db.selectFrom("blob").selectAll()
        .where("refcount", ">", 0)
        .orderBy(sql`coalesce(last_verified_at, 0)`).orderBy("created_at").orderBy("sha256")
        .limit(limit).execute();
      return rows.map(toBlobRow);
    },

    async markVerified(sha256, at) {
      await db.updateTable("blob").set({ last_verified_at: at }).where("sha256", "=", sha256).execute();
    },

    async markReplicated(sha256, replicated) {
      await db.updateTable("blob").set({ replicated: replicated ? 1 : 0 }).where("sha256", "=", sha256).execute();
    },

    async recordReads(reads) {
      // One statement per blob, in one transaction: a batch of a flush interval's reads.
      if (reads.size === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const [sha256, at] of reads) {
          await trx.updateTable("blob").set({ last_read_at: at }).where("sha256", "=", sha256)
            .where((eb) => eb.or([eb("last_read_at", "is", null), eb("last_read_at", "<", at)])).execute();
        }
      });
    },

    async coldCandidates(before, limit) {
      const rows = await db.selectFrom("blob").selectAll()
        .where("tier", "=", "hot").where("refcount", ">", 0)
        .where(sql<boolean>`coalesce(last_read_at, created_at) < ${before}`)
        .orderBy(sql`coalesce(last_read_at, created_at)`).limit(limit).execute();
      return rows.map(toBlobRow);
    },

    async switchPlacement(sha256, from, to) {
      const result = await db.updateTable("blob").set({ tier: to.tier, storage_key: to.storageKey })
        .where("sha256", "=", sha256).where("tier", "=", from.tier).where("storage_key", "=", from.storageKey)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async usageByTier() {
      const rows = await db.selectFrom("blob")
        .select(["tier", (eb) => eb.fn.countAll<number>().as("blobs"), (eb) => eb.fn.sum<number>("size").as("bytes")])
        .where("refcount", ">", 0).groupBy("tier").execute();
      const usage: Record<Tier, TierUsage> = { hot: { blobs: 0, bytes: 0 }, cold: { blobs: 0, bytes: 0 } };
      for (const row of rows) usage[row.tier] = { blobs: Number(row.blobs), bytes: Number(row.bytes ?? 0) };
      return usage;
    },

    async assetsOf(sha256) {
      const rows = await db.selectFrom("asset").select(["id", "status"])
        .where("blob_sha256", "=", sha256).where("status", "!=", "deleted").execute();
      return rows.map((row) => ({ id: row.id, status: row.status as AssetStatus }));
    },
  };
}
