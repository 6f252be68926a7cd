import type { Kysely, Updateable } from "kysely";
import type { AssetRepo } from "../../ports/repos.js";
import { toAssetRow, toEvent, toIntBool } from "../rows.js";
import type { AssetTable, Database } from "../schema.js";
import { assetWhere } from "./asset-filter.js";
import { loadTags, loadTagsOf, writeTags } from "./tags.js";

export function createAssetRepo(db: Kysely<Database>): AssetRepo {
  return {
    async get(id) {
      const row = await db.selectFrom("asset").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toAssetRow(row, await loadTagsOf(db, id));
    },

    async list(filter, visibility, page) {
      let query = db.selectFrom("asset").selectAll().where(assetWhere(filter, visibility));
      // Ids are ULIDs: newest first is largest first, and the last id is the whole cursor.
      if (page.beforeId !== undefined) query = query.where("asset.id", "<", page.beforeId);
      const rows = await query.orderBy("asset.id", "desc").limit(Math.max(0, Math.trunc(page.limit))).execute();
      const tags = await loadTags(db, rows.map((r) => r.id));
      return rows.map((r) => toAssetRow(r, tags.get(r.id) ?? {}));
    },

    async events(id) {
      const rows = await db.selectFrom("asset_event").selectAll().where("asset_id", "=", id).orderBy("id").execute();
      return rows.map(toEvent);
    },

    async transition(id, input) {
      return db.transaction().execute(async (trx) => {
        const changes: Updateable<AssetTable> = { status: input.to, updated_at: input.at };
        if (input.failure !== undefined) {
          changes.failure_code = input.failure?.code ?? null;
          changes.failure_message = input.failure?.message ?? null;
        }
        if (input.meta !== undefined) changes.meta = JSON.stringify(input.meta);
        if (input.to === "deleted") changes.deleted_at = input.at;
        // Compare-and-set: the status in the WHERE clause is what makes a lost race visible.
        const row = await trx
          .updateTable("asset")
          .set(changes)
          .where("id", "=", id)
          .where("status", "=", input.from)
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await trx
          .insertInto("asset_event")
          .values({ asset_id: id, from_status: input.from, to_status: input.to, reason: input.reason, at: input.at })
          .execute();
        return toAssetRow(row, await loadTagsOf(trx, id));
      });
    },

    async patch(id, patch) {
      return db.transaction().execute(async (trx) => {
        const changes: Updateable<AssetTable> = { updated_at: patch.at };
        if (patch.filename !== undefined) changes.filename = patch.filename;
        if (patch.public !== undefined) changes.public = toIntBool(patch.public);
        const row = await trx.updateTable("asset").set(changes).where("id", "=", id).returningAll().executeTakeFirst();
        if (!row) return undefined;
        if (patch.tags) await writeTags(trx, id, patch.tags);
        return toAssetRow(row, await loadTagsOf(trx, id));
      });
    },
  };
}
