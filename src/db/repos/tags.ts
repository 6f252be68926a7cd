import type { Kysely } from "kysely";
import type { Database } from "../schema.js";

/** Tags of many assets in one query (a listing page must not cost one query per row). */
export async function loadTags(db: Kysely<Database>, assetIds: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const byAsset = new Map<string, Record<string, string>>();
  if (assetIds.length === 0) return byAsset;
  const rows = await db
    .selectFrom("asset_tag")
    .select(["asset_id", "key", "value"])
    .where("asset_id", "in", [...new Set(assetIds)])
    .orderBy("asset_id")
    .orderBy("key")
    .execute();
  for (const row of rows) {
    let tags = byAsset.get(row.asset_id);
    if (!tags) byAsset.set(row.asset_id, (tags = {}));
    tags[row.key] = row.value;
  }
  return byAsset;
}

export async function loadTagsOf(db: Kysely<Database>, assetId: string): Promise<Record<string, string>> {
  return (await loadTags(db, [assetId])).get(assetId) ?? {};
}

/** Sets or (value null) removes tags; call inside the caller's transaction. */
export async function writeTags(db: Kysely<Database>, assetId: string, tags: Readonly<Record<string, string | null>>): Promise<void> {
  const entries = Object.entries(tags);
  const removed = entries.filter(([, value]) => value === null).map(([key]) => key);
  const set = entries.flatMap(([key, value]) => (value === null ? [] : [{ asset_id: assetId, key, value }]));
  if (removed.length > 0) {
    await db.deleteFrom("asset_tag").where("asset_id", "=", assetId).where("key", "in", removed).execute();
  }
  if (set.length > 0) {
    await db
      .insertInto("asset_tag")
      .values(set)
      .onConflict((oc) => oc.columns(["asset_id", "key"]).doUpdateSet((eb) => ({ value: eb.ref("excluded.value") })))
      .execute();
  }
}
