import { isOwnerView, type Caller } from "../domain/access.js";
import { AppError } from "../domain/errors.js";
import type { Repos } from "../ports/repos.js";
import type { AssetService } from "./assets.js";

export interface VariantNode {
  cacheKey: string;
  recipe: string;
  contentType: string;
  size: number;
  hits: number;
  lastAccessAt: string;
  /** The cache key of the variant it was derived from (an intermediate rung); null: the original. */
  parent: string | null;
}

/**
 * The asset's part of the transformation graph (DESIGN §10): every stored variant of its
 * content, intermediate rungs (`intermediate=<long side>`) included, each with its parent.
 * For the owner and admins: others may read the asset but not what has been rendered of it.
 */
export function createVariantListing(deps: { assets: Pick<AssetService, "find">; repos: Repos }) {
  async function list(caller: Caller, id: string): Promise<{ items: VariantNode[] }> {
    const asset = await deps.assets.find(caller, id, { tags: false });
    if (!isOwnerView(caller, asset)) throw new AppError("forbidden", "only the owner and admins see an asset's variants");
    if (!asset.blobSha256) return { items: [] };
    const rows = await deps.repos.variants.listByBlob(asset.blobSha256);
    return {
      items: rows.map((row) => ({
        cacheKey: row.cacheKey, recipe: row.recipe, contentType: row.contentType, size: row.size, hits: row.hits,
        lastAccessAt: new Date(row.lastAccessAt).toISOString(), parent: row.parent ?? null,
      })),
    };
  }
  return { list };
}

export type VariantListing = ReturnType<typeof createVariantListing>;
