import type { Kysely } from "kysely";
import type { AssetStatus } from "../../domain/states.js";
import type { AssetRow, IngestRecord } from "../../ports/repos.js";
import { toAssetRow, toIntBool } from "../rows.js";
import type { Database } from "../schema.js";
import { writeTags } from "./tags.js";
import { adjustQuota, chargeIngest } from "./quotas.js";
import { referenceBlob } from "./ingest-writes.js";
import { recordEvents } from "./asset-events.js";
import { dropSession } from "./uploads.js";
import { writePublicGrant } from "./acl.js";

export async function recordIngest(
  db: Kysely<Database>,
  record: IngestRecord,
): Promise<{ asset: AssetRow; blobCreated: boolean; refcount: number }> {
  const last = record.events.at(-1);
  if (!last) throw new Error("recordIngest needs at least one event (the last one is the asset's status)");
  const { asset } = record;
  return db.transaction().execute(async (trx) => {
    const blob = await referenceBlob(trx, record.blob);
    const row = await trx
      .insertInto("asset")
      .values({
        id: asset.id,
        owner: asset.owner,
        blob_sha256: record.blob.sha256,
        filename: asset.filename,
        declared_type: asset.declaredType,
        content_type: asset.contentType,
        kind: asset.kind,
        size: asset.size,
        status: last.to,
        public: toIntBool(asset.public),
        created_at: asset.createdAt,
        updated_at: Math.max(asset.createdAt, last.at),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeTags(trx, asset.id, asset.tags);
    if (asset.public) await writePublicGrant(trx, asset.id, true, asset.createdAt);
    await chargeIngest(trx, asset.owner, asset.size, record.quota.reserved, record.quota.defaultMaxBytes);
    await recordEvents(trx, asset, record.events);
    return { asset: toAssetRow(row, { ...asset.tags }), blobCreated: blob.created, refcount: blob.refcount };
  });
}

export async function softDelete(
  db: Kysely<Database>,
  id: string,
  from: AssetStatus,
  reason: string,
  at: number,
): Promise<{ asset: AssetRow; refcount: number | null } | undefined> {
  // deleted -> deleted would pass the compare-and-set and release the blob a second time.
  if (from === "deleted") return undefined;
  return db.transaction().execute(async (trx) => {
    // Into the trash: the asset keeps its reference on the content until it is restored,
    // purged or expires (repos/trash.ts). A pending upload has no content to keep.
    const row = await trx
      .updateTable("asset")
      .set(from === "pending"
        ? { status: "deleted", deleted_at: at, updated_at: at, purged_at: at }
        : { status: "deleted", deleted_at: at, updated_at: at, trashed_from: from })
      .where("id", "=", id)
      .where("status", "=", from)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    await recordEvents(trx, row, [{ from, to: "deleted", reason, at }]);
    // A pending upload holds a reservation; anything past pending counts its bytes as used
    // until it is deleted (a restore charges them again).
    const session = await dropSession(trx, id);
    if (!session && from !== "pending" && row.size !== null) {
      await adjustQuota(trx, row.owner, { used: -Number(row.size), reserved: 0 });
    }
    let refcount: number | null = null;
    if (row.blob_sha256 !== null) {
      const blob = await trx.selectFrom("blob").select("refcount").where("sha256", "=", row.blob_sha256).executeTakeFirst();
      refcount = blob ? Number(blob.refcount) : null;
    }
    const tags = await trx.selectFrom("asset_tag").select(["key", "value"]).where("asset_id", "=", id).execute();
    return { asset: toAssetRow(row, Object.fromEntries(tags.map((t) => [t.key, t.value]))), refcount };
  });
}
