import { visibilityOf, type Caller } from "../domain/access.js";
import { isPhash } from "../domain/phash.js";
import type { Repos, SimilarAsset } from "../ports/repos.js";
import type { AssetService } from "./assets.js";

/** The API's bounds (DESIGN §5 `GET /v1/assets/:id/similar`); the HTTP edge enforces them. */
export const SIMILAR_DEFAULTS = { maxDistance: 8, limit: 20 } as const;
export const SIMILAR_LIMITS = { maxDistance: 64, limit: 100 } as const;

export interface SimilarServiceDeps {
  assets: Pick<AssetService, "find">;
  repos: Pick<Repos, "assets">;
}

/** Why a search returned nothing without searching. */
export interface SimilarSkip {
  code: "not_ready" | "no_phash";
  message: string;
}

export interface SimilarResult {
  items: SimilarAsset[];
  reason?: SimilarSkip;
}

/**
 * Near-duplicates of an asset by perceptual-hash Hamming distance: a copy that was
 * resized or re-encoded is a few bits away, an unrelated picture about half of 64.
 * The caller must be able to read the asset (else 404, as everywhere) and sees only the
 * matches they may read.
 */
export function createSimilarService(deps: SimilarServiceDeps) {
  const { assets, repos } = deps;

  async function similar(caller: Caller, id: string, maxDistance: number, limit: number = SIMILAR_DEFAULTS.limit): Promise<SimilarResult> {
    const asset = await assets.find(caller, id);
    if (!isPhash(asset.meta?.phash)) {
      // Not an error: the asset exists and is readable, it just has nothing to compare.
      const reason: SimilarSkip = asset.status === "ready" || asset.status === "deleted"
        ? { code: "no_phash", message: "the asset has no perceptual hash: only decodable images within the pixel limit get one" }
        : { code: "not_ready", message: `the asset is ${asset.status}; its perceptual hash is computed when it becomes ready` };
      return { items: [], reason };
    }
    return { items: await repos.assets.similar(asset.id, maxDistance, visibilityOf(caller), limit) };
  }

  return { similar };
}

export type SimilarService = ReturnType<typeof createSimilarService>;
