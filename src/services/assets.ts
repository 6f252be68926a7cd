import { applyTagPatch } from "../domain/tags.js";
import { canManage, isOwnerView, visibilityOf, type Caller } from "../domain/access.js";
import { grantedTo, permissionsFor, principalsOf, type Permission } from "../domain/grants.js";
import { AppError, NotFoundError } from "../domain/errors.js";
import { isAssetId } from "../domain/ids.js";
import { assertTransition } from "../domain/states.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { AssetEvent, AssetFilter, AssetPatch, AssetRow, Repos } from "../ports/repos.js";
import type { DeliveryFacts } from "./asset-meta.js";

export interface AssetServiceDeps {
  repos: Repos;
  clock: Clock;
  logger: Logger;
  /** The owner's quota when they have none of their own (restores are charged again). */
  quotaDefaultBytes?: number | null;
  /** A restored asset that stopped at `verified`: queue its first job again. */
  restarted?: (asset: AssetRow) => Promise<void>;
  /** A pending asset is an open upload session: deleting it aborts the session. */
  abortUpload?: (caller: Caller, id: string) => Promise<void>;
  /** The hot-metadata cache (services/asset-meta.ts); absent: delivery reads the database on every request. */
  deliveryFacts?: (id: string) => Promise<DeliveryFacts | undefined>;
}

/** How often a waiting upload looks at its asset again. */
const SETTLE_POLL_MS = 25;

export interface ListResult {
  items: AssetRow[];
  next: string | null;
}

/**
 * Reading and managing assets. Anything the caller may not read is "not found", so the
 * API never reveals that a private asset exists.
 */
export function createAssetService(deps: AssetServiceDeps) {
  const { repos, clock, logger } = deps;

  /**
   * What the caller may do with the asset. Owners, admins and readers of public assets
   * need no second look; anyone else's grants are asked for by principal (`granted`).
   */
  async function permissions(
    caller: Caller, asset: AssetRow, need: Permission, granted: (principals: string[]) => Promise<Permission[]> | Permission[],
  ): Promise<ReadonlySet<Permission>> {
    const plain = permissionsFor(caller, asset, []);
    if (plain.has(need) || !caller || asset.status === "deleted") return plain;
    return permissionsFor(caller, asset, await granted(principalsOf(caller)));
  }

  /**
   * The asset, if the caller may `need` it (default read). Without read it is "not found";
   * with read but not `need`, 403. `signed`: a valid signed URL already grants read of
   * exactly this asset (checked by the caller before the lookup).
   */
  async function find(caller: Caller, id: string, options: { tags?: boolean; need?: Permission; signed?: boolean } = {}): Promise<AssetRow> {
    const asset = isAssetId(id) ? await repos.assets.get(id, options.tags === undefined ? undefined : { tags: options.tags }) : undefined;
    if (!asset) throw new NotFoundError();
    return allowed(caller, asset, options.need ?? "read", options.signed === true, (principals) => repos.acl.permissionsOf(asset.id, principals));
  }

  async function allowed(
    caller: Caller, asset: AssetRow, need: Permission, signed: boolean, granted: (principals: string[]) => Promise<Permission[]> | Permission[],
  ): Promise<AssetRow> {
    if (signed && need === "read" && asset.status !== "deleted") return asset;
    const permitted = await permissions(caller, asset, need, granted);
    if (!permitted.has("read")) throw new NotFoundError();
    if (!permitted.has(need)) {
      // Readable but not this (e.g. someone else's public asset): the caller knows it
      // exists, so 403 leaks nothing.
      throw new AppError("forbidden", need === "delete" ? "you may not delete this asset" : "you may not change this asset");
    }
    return asset;
  }

  /**
   * `find` for reading the content (originals, variants, streams; without tags), from the
   * hot-metadata cache when there is one. The cache holds the asset and its grants, not a
   * decision: the caller is checked against them here on every request, by the same rule.
   */
  async function findForDelivery(caller: Caller, id: string, options: { signed?: boolean } = {}): Promise<AssetRow> {
    if (!deps.deliveryFacts) return find(caller, id, { tags: false, signed: options.signed === true });
    const facts = isAssetId(id) ? await deps.deliveryFacts(id) : undefined;
    if (!facts) throw new NotFoundError();
    return allowed(caller, facts.asset, "read", options.signed === true, (principals) => grantedTo(facts.grants, principals));
  }

  async function list(caller: Caller, filter: AssetFilter, limit: number, cursor: string | undefined): Promise<ListResult> {
    // `status=deleted` is the trash: owners see their own restorable assets (the
    // repository narrows it), admins every deleted asset.
    if (filter.status === "deleted" && !caller) throw new AppError("forbidden", "sign in to see your trash");
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = await repos.assets.list(filter, visibilityOf(caller), { limit: limit + 1, beforeId });
    const items = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(items[items.length - 1]!.id) : null;
    return { items, next };
  }

  async function patch(caller: Caller, id: string, change: Omit<AssetPatch, "at">): Promise<AssetRow> {
    const asset = await find(caller, id, { need: "write" });
    // `public` is the `*` read grant: changing it is managing grants, for owners and admins.
    if (change.public !== undefined && change.public !== asset.public && !canManage(caller, asset)) {
      throw new AppError("forbidden", "only the owner or an admin may change who can read this asset");
    }
    // Checked against the current set: adding the 65th tag fails, replacing one on a full asset works.
    if (change.tags) applyTagPatch(asset.tags, change.tags);
    const updated = await repos.assets.patch(id, { ...change, at: clock.now() });
    if (!updated) throw new NotFoundError();
    return updated;
  }

  async function events(caller: Caller, id: string): Promise<AssetEvent[]> {
    await find(caller, id);
    return repos.assets.events(id);
  }

  /**
   * Into the trash (restorable for the trash TTL), or with `purge` out of it at once: the
   * content reference is released and gc collects the bytes when nothing else holds them.
   * Purging an asset already in the trash is allowed to its owner and admins.
   */
  async function remove(caller: Caller, id: string, options: { purge?: boolean } = {}): Promise<void> {
    if (options.purge) {
      const trashed = await findTrashed(caller, id).catch(() => undefined);
      if (trashed) return purge(caller, id);
    }
    // A background job may move the asset on (verified -> ready) between our read and our
    // compare-and-set; a delete still wins, so read the new state and try again.
    for (let attempt = 1; ; attempt++) {
      const asset = await find(caller, id, { need: "delete" });
      if (asset.status === "pending" && deps.abortUpload) return deps.abortUpload(caller, id);
      assertTransition(asset.status, "deleted", id);
      const result = await repos.softDelete(id, asset.status, `deleted by ${caller?.sub ?? "anonymous"}`, clock.now());
      if (result) {
        logger.info({ assetId: id, from: asset.status }, "asset moved to the trash");
        if (options.purge) await purge(caller, id);
        return;
      }
      if (attempt === 5) throw new AppError("state_conflict", "the asset kept changing while being deleted; try again");
    }
  }

  async function purge(caller: Caller, id: string): Promise<void> {
    const purged = await repos.trash.purge(id, `purged by ${caller?.sub ?? "anonymous"}`, clock.now());
    if (purged) logger.info({ assetId: id, refcount: purged.refcount }, "asset purged from the trash");
  }

  /** A deleted asset still in the trash that the caller may restore or purge (owner or admin); else 404. */
  async function findTrashed(caller: Caller, id: string): Promise<AssetRow> {
    const asset = isAssetId(id) ? await repos.assets.get(id, { tags: false }) : undefined;
    if (!asset || asset.status !== "deleted" || !isOwnerView(caller, asset) || !(await repos.trash.inTrash(id))) throw new NotFoundError();
    return asset;
  }

  /** Back from the trash with the status it had; 404 once purged or expired. */
  async function restore(caller: Caller, id: string): Promise<AssetRow> {
    await findTrashed(caller, id);
    const restored = await repos.trash.restore(id, `restored by ${caller?.sub ?? "anonymous"}`, clock.now(), deps.quotaDefaultBytes ?? null);
    if (!restored) throw new NotFoundError();
    logger.info({ assetId: id, status: restored.status }, "asset restored from the trash");
    // Its background work may have stopped at the deletion: start it again (idempotent jobs).
    if (restored.status === "verified" && deps.restarted) await deps.restarted(restored);
    return restored;
  }

  /**
   * Waits while a new asset's first jobs run (verified -> ready, failed or quarantined),
   * until `deadline` (epoch ms); returns the latest row either way. The caller just
   * created the asset, so no access check is repeated.
   */
  async function waitSettled(asset: AssetRow, deadline: number): Promise<AssetRow> {
    let current = asset;
    while (current.status === "verified" && clock.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      current = (await repos.assets.get(asset.id)) ?? current;
    }
    return current;
  }

  return { find, findForDelivery, list, patch, events, remove, restore, waitSettled };
}

export type AssetService = ReturnType<typeof createAssetService>;

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ before: id })).toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const before = (parsed as { before?: unknown }).before;
    if (typeof before === "string" && isAssetId(before)) return before;
  } catch {
    // fall through
  }
  throw new AppError("invalid_parameter", "cursor is not one this service issued", { parameter: "cursor" });
}
