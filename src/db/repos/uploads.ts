import type { Kysely, Selectable } from "kysely";
import type { AssetStatus, Failure } from "../../domain/states.js";
import type { CompletionRecord, NewPendingAsset, UploadKind, UploadRepo, UploadSession } from "../../ports/repos.js";
import { toAssetRow, toIntBool } from "../rows.js";
import type { Database, UploadTable } from "../schema.js";
import { referenceBlob } from "./ingest-writes.js";
import { recordEvents } from "./asset-events.js";
import { adjustQuota, getQuota, reserveWithin } from "./quotas.js";
import { loadTagsOf, writeTags } from "./tags.js";
import { writePublicGrant } from "./acl.js";

type Db = Kysely<Database>;

function toSession(row: Selectable<UploadTable>): UploadSession {
  return {
    assetId: row.asset_id,
    owner: row.owner,
    kind: row.kind as UploadKind,
    stagingKey: row.staging_key,
    contentType: row.content_type,
    expectedSize: Number(row.expected_size),
    expectedSha256: row.expected_sha256,
    multipartId: row.multipart_id,
    partSize: row.part_size === null ? null : Number(row.part_size),
    reservedBytes: Number(row.reserved_bytes),
    expiresAt: Number(row.expires_at),
    createdAt: Number(row.created_at),
  };
}

/**
 * Closes the session of a pending asset inside `trx`: the row deleted and its reservation
 * given back. Also used by softDelete, so deleting a pending asset cannot leak a reservation.
 */
export async function dropSession(trx: Db, assetId: string): Promise<UploadSession | undefined> {
  const row = await trx.deleteFrom("upload").where("asset_id", "=", assetId).returningAll().executeTakeFirst();
  if (!row) return undefined;
  const session = toSession(row);
  await adjustQuota(trx, session.owner, { used: 0, reserved: -session.reservedBytes });
  return session;
}

export function createUploadRepo(db: Db): UploadRepo {
  return {
    async open(asset: NewPendingAsset, session: UploadSession, defaultMaxBytes: number | null) {
      return db.transaction().execute(async (trx) => {
        const fits = await reserveWithin(trx, asset.owner, session.reservedBytes, defaultMaxBytes);
        if (!fits) return { quotaExceeded: await getQuota(trx, asset.owner) };
        const row = await trx
          .insertInto("asset")
          .values({
            id: asset.id,
            owner: asset.owner,
            blob_sha256: null,
            filename: asset.filename,
            declared_type: asset.declaredType,
            content_type: null,
            kind: asset.kind,
            size: null,
            status: "pending",
            public: toIntBool(asset.public),
            created_at: asset.createdAt,
            updated_at: asset.createdAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await writeTags(trx, asset.id, asset.tags);
        if (asset.public) await writePublicGrant(trx, asset.id, true, asset.createdAt);
        await recordEvents(trx, asset, [{ from: null, to: "pending", reason: `${session.kind} upload session opened`, at: asset.createdAt }]);
        await trx
          .insertInto("upload")
          .values({
            asset_id: session.assetId,
            owner: session.owner,
            kind: session.kind,
            staging_key: session.stagingKey,
            content_type: session.contentType,
            expected_size: session.expectedSize,
            expected_sha256: session.expectedSha256,
            multipart_id: session.multipartId,
            part_size: session.partSize,
            reserved_bytes: session.reservedBytes,
            expires_at: session.expiresAt,
            created_at: session.createdAt,
          })
          .execute();
        return { asset: toAssetRow(row, { ...asset.tags }) };
      });
    },

    async get(assetId) {
      const row = await db.selectFrom("upload").selectAll().where("asset_id", "=", assetId).executeTakeFirst();
      return row && toSession(row);
    },

    async expired(now, limit) {
      const rows = await db
        .selectFrom("upload")
        .selectAll()
        .where("expires_at", "<=", now)
        .orderBy("expires_at")
        .limit(Math.max(0, Math.trunc(limit)))
        .execute();
      return rows.map(toSession);
    },

    async complete(record: CompletionRecord) {
      const first = record.events[0];
      const last = record.events.at(-1);
      if (!first || !last || first.from !== "pending") throw new Error("complete needs events that start from pending");
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable("asset")
          .set({
            status: last.to,
            blob_sha256: record.blob.sha256,
            content_type: record.contentType,
            kind: record.kind,
            size: record.blob.size,
            updated_at: last.at,
          })
          .where("id", "=", record.assetId)
          .where("status", "=", "pending")
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        const blob = await referenceBlob(trx, record.blob);
        await recordEvents(trx, row, record.events);
        await dropSession(trx, record.assetId);
        // The reservation covered the declared size, which completion checked; charge what arrived.
        await adjustQuota(trx, row.owner, { used: record.blob.size, reserved: 0 });
        return { asset: toAssetRow(row, await loadTagsOf(trx, record.assetId)), blobCreated: blob.created, refcount: blob.refcount };
      });
    },

    async close(assetId: string, to: "failed" | "deleted", reason: string, at: number, failure?: Failure) {
      return db.transaction().execute(async (trx) => {
        const from: AssetStatus = "pending";
        const row = await trx
          .updateTable("asset")
          .set({
            status: to,
            updated_at: at,
            ...(to === "deleted" ? { deleted_at: at, purged_at: at } : {}),
            ...(failure ? { failure_code: failure.code, failure_message: failure.message } : {}),
          })
          .where("id", "=", assetId)
          .where("status", "=", from)
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await recordEvents(trx, row, [{ from, to, reason, at }]);
        await dropSession(trx, assetId);
        return toAssetRow(row, await loadTagsOf(trx, assetId));
      });
    },
  };
}
