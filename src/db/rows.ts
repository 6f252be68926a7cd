import type { Insertable, Selectable } from "kysely";
import type { AssetKind } from "../domain/media-types.js";
import type { AssetStatus } from "../domain/states.js";
import type { AssetEvent, AssetMeta, AssetRow, BlobRow, VariantRow } from "../ports/repos.js";
import type { AssetEventTable, AssetTable, BlobTable, IntBool, VariantTable } from "./schema.js";

/**
 * snake_case rows <-> the camelCase port types. The database only ever holds values this
 * code wrote, so statuses and kinds are narrowed without re-validation.
 */

export const toIntBool = (value: boolean): IntBool => (value ? 1 : 0);

/** Aggregates come back as strings from PostgreSQL (numeric) and as numbers from SQLite. */
export const toNumber = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

export function toAssetRow(row: Selectable<AssetTable>, tags: Record<string, string>): AssetRow {
  return {
    id: row.id,
    owner: row.owner,
    blobSha256: row.blob_sha256,
    filename: row.filename,
    declaredType: row.declared_type,
    contentType: row.content_type,
    kind: row.kind as AssetKind,
    size: row.size === null ? null : Number(row.size),
    status: row.status as AssetStatus,
    failure: row.failure_code === null ? null : { code: row.failure_code, message: row.failure_message ?? "" },
    public: row.public === 1,
    meta: row.meta === null ? null : (JSON.parse(row.meta) as AssetMeta),
    tags,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at),
  };
}

export function toEvent(row: Selectable<AssetEventTable>): AssetEvent {
  return {
    assetId: row.asset_id,
    from: row.from_status as AssetStatus | null,
    to: row.to_status as AssetStatus,
    reason: row.reason,
    at: Number(row.at),
  };
}

export function toBlobRow(row: Selectable<BlobTable>): BlobRow {
  return {
    sha256: row.sha256,
    size: Number(row.size),
    storageKey: row.storage_key,
    sniffedType: row.sniffed_type,
    refcount: Number(row.refcount),
    tier: row.tier,
    createdAt: Number(row.created_at),
    lastVerifiedAt: row.last_verified_at === null ? null : Number(row.last_verified_at),
    replicated: row.replicated === 1,
    state: row.state,
    generation: Number(row.generation),
  };
}

export function toVariantRow(row: Selectable<VariantTable>): VariantRow {
  return {
    cacheKey: row.cache_key,
    blobSha256: row.blob_sha256,
    recipe: row.recipe,
    storageKey: row.storage_key,
    contentType: row.content_type,
    size: Number(row.size),
    createdAt: Number(row.created_at),
    lastAccessAt: Number(row.last_access_at),
    hits: Number(row.hits),
    parent: row.parent ?? null,
  };
}

export function fromVariantRow(row: VariantRow): Insertable<VariantTable> {
  return {
    cache_key: row.cacheKey,
    blob_sha256: row.blobSha256,
    recipe: row.recipe,
    storage_key: row.storageKey,
    content_type: row.contentType,
    size: row.size,
    created_at: row.createdAt,
    last_access_at: row.lastAccessAt,
    hits: row.hits,
    parent: row.parent ?? null,
  };
}
