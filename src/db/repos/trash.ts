import { sql, type Kysely } from "kysely";
import type { TrashRepo } from "../../ports/gc.js";
import { toAssetRow } from "../rows.js";
import type { Database } from "../schema.js";
import { chargeIngest } from "./quotas.js";
import { loadTagsOf } from "./tags.js";
import { recordEvents } from "./asset-events.js";
import type { AssetStatus } from "../../domain/states.js";

/**
 * The trash: deleted assets whose reference on their content is kept until they are
 * restored, purged, or expire (migration 005). "In the trash" is `status = 'deleted' and
 * purged_at is null and trashed_from is not null`.
 */
export function createTrashRepo(db: Kysely<Database>): TrashRepo {
  return {
    restore(id, reason, at, defaultMaxBytes) {
      return db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom("asset").select(["trashed_from"]).where("id", "=", id)
          .where("status", "=", "deleted").where("purged_at", "is", null).where("trashed_from", "is not", null)
          .executeTakeFirst();
        if (!before?.trashed_from) return undefined;
        const row = await trx
          .updateTable("asset")
          .set({ status: before.trashed_from, trashed_from: null, deleted_at: null, updated_at: at })
          .where("id", "=", id)
          .where("status", "=", "deleted")
          .where("purged_at", "is", null)
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await recordEvents(trx, row, [{ from: "deleted", to: before.trashed_from as AssetStatus, reason, at }]);
        // Deleting gave the owner the bytes back; restoring takes them again, within the limit.
        if (row.size !== null) await chargeIngest(trx, row.owner, Number(row.size), 0, defaultMaxBytes);
        return toAssetRow(row, await loadTagsOf(trx, id));
      });
    },

    purge(id, reason, at) {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable("asset")
          .set({ purged_at: at, trashed_from: null, updated_at: at })
          .where("id", "=", id)
          .where("status", "=", "deleted")
          .where("purged_at", "is", null)
          .returning(["blob_sha256", "owner"])
          .executeTakeFirst();
        if (!row) return undefined;
        await recordEvents(trx, { id, owner: row.owner }, [{ from: "deleted", to: "deleted", reason, at }]);
        if (row.blob_sha256 === null) return { refcount: null };
        const blob = await trx
          .updateTable("blob")
          // Never below 0: a count that would go negative is a bookkeeping bug elsewhere, and
          // a negative count would keep the blob from ever being collected. The right-hand
          // sides all see the old refcount.
          .set({
            refcount: sql<number>`case when refcount > 0 then refcount - 1 else 0 end`,
            released_at: sql<number | null>`case when refcount <= 1 then cast(${at} as bigint) else released_at end`,
          })
          .where("sha256", "=", row.blob_sha256)
          .returning("refcount")
          .executeTakeFirst();
        return { refcount: blob ? Number(blob.refcount) : null };
      });
    },

    async inTrash(id) {
      const row = await db.selectFrom("asset").select("id").where("id", "=", id).where("status", "=", "deleted")
        .where("purged_at", "is", null).where("trashed_from", "is not", null).executeTakeFirst();
      return row !== undefined;
    },

    async expired(deletedBefore, limit) {
      const rows = await db.selectFrom("asset").select("id")
        .where("status", "=", "deleted").where("purged_at", "is", null).where("deleted_at", "<=", deletedBefore)
        .orderBy("deleted_at").limit(limit).execute();
      return rows.map((r) => r.id);
    },
  };
}
