import { sql, type Kysely, type Updateable } from "kysely";
import { isPhash, phashToInt64 } from "../../domain/phash.js";
import type { AssetFilter, AssetMeta, AssetRepo, Page, Visibility } from "../../ports/repos.js";
import type { SqlDialect } from "../dialect/types.js";
import { toAssetRow, toEvent, toIntBool } from "../rows.js";
import type { AssetTable, Database } from "../schema.js";
import { assetWhere } from "./asset-filter.js";
import { loadTags, loadTagsOf, writeTags } from "./tags.js";
import { writePublicGrant } from "./acl.js";
import { recordEvents } from "./asset-events.js";

/** One page of a listing, newest first (exported so its query plan can be checked). */
export function listQuery(db: Kysely<Database>, filter: AssetFilter, visibility: Visibility, page: Page) {
  let query = db.selectFrom("asset").selectAll().where(assetWhere(filter, visibility));
  // Ids are ULIDs: newest first is largest first, and the last id is the whole cursor.
  if (page.beforeId !== undefined) query = query.where("asset.id", "<", page.beforeId);
  return query.orderBy("asset.id", "desc").limit(Math.max(0, Math.trunc(page.limit)));
}

export function createAssetRepo(db: Kysely<Database>, dialect: SqlDialect): AssetRepo {
  return {
    async get(id, options) {
      const row = await db.selectFrom("asset").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toAssetRow(row, options?.tags === false ? {} : await loadTagsOf(db, id));
    },

    async list(filter, visibility, page) {
      const rows = await listQuery(db, filter, visibility, page).execute();
      const tags = await loadTags(db, rows.map((r) => r.id));
      return rows.map((r) => toAssetRow(r, tags.get(r.id) ?? {}));
    },

    async heldBy(owner, sha256) {
      const row = await db
        .selectFrom("asset")
        .selectAll()
        .where("owner", "=", owner)
        .where("blob_sha256", "=", sha256)
        .where("status", "in", ["verified", "ready"])
        .limit(1)
        .executeTakeFirst();
      return row && toAssetRow(row, {});
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
        if (input.meta !== undefined) {
          changes.meta = JSON.stringify(input.meta);
          changes.phash = phashColumn(input.meta);
        }
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
        await recordEvents(trx, row, [{ from: input.from, to: input.to, reason: input.reason, at: input.at }]);
        return toAssetRow(row, await loadTagsOf(trx, id));
      });
    },

    async replaceMeta(id, status, meta, at) {
      const row = await db
        .updateTable("asset")
        .set({ meta: JSON.stringify(meta), phash: phashColumn(meta), updated_at: at })
        .where("id", "=", id)
        .where("status", "=", status)
        .returningAll()
        .executeTakeFirst();
      return row ? toAssetRow(row, await loadTagsOf(db, id)) : undefined;
    },

    async patch(id, patch) {
      return db.transaction().execute(async (trx) => {
        const changes: Updateable<AssetTable> = { updated_at: patch.at };
        if (patch.filename !== undefined) changes.filename = patch.filename;
        if (patch.public !== undefined) changes.public = toIntBool(patch.public);
        const row = await trx.updateTable("asset").set(changes).where("id", "=", id).returningAll().executeTakeFirst();
        if (!row) return undefined;
        if (patch.public !== undefined) await writePublicGrant(trx, id, patch.public, patch.at);
        if (patch.tags) await writeTags(trx, id, patch.tags);
        return toAssetRow(row, await loadTagsOf(trx, id));
      });
    },

    async similar(id, maxDistance, visibility, limit) {
      // The source's hash stays in the database (a scalar subquery, evaluated once): read
      // into JS it would come back as a lossy double.
      const sourceHash = db.selectFrom("asset as source").select("source.phash").where("source.id", "=", id);
      const distance = dialect.hammingDistance(sql.ref("asset.phash"), sourceHash);
      const rows = await db
        .selectFrom("asset")
        .selectAll("asset")
        .select(distance.as("distance"))
        .where(assetWhere({ status: "ready" }, visibility))
        .where("asset.id", "<>", id)
        .where("asset.phash", "is not", null)
        .where(distance, "<=", Math.trunc(maxDistance))
        .orderBy("distance")
        .orderBy("asset.id", "desc")
        .limit(Math.max(0, Math.trunc(limit)))
        .execute();
      const tags = await loadTags(db, rows.map((r) => r.id));
      return rows.map(({ distance: bits, ...row }) => ({ asset: toAssetRow(row, tags.get(row.id) ?? {}), distance: Number(bits) }));
    },
  };
}

/** The column mirrors `meta.phash`: replaced meta without a hash clears it. */
function phashColumn(meta: AssetMeta): bigint | null {
  return isPhash(meta.phash) ? phashToInt64(meta.phash) : null;
}
