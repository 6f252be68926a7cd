import { AppError } from "../domain/errors.js";
import type { BlobCareRepo, Tier, TierUsage } from "../ports/blob-care.js";
import type { Repos } from "../ports/repos.js";
import type { LifecycleReport, LifecycleService } from "./lifecycle.js";
import type { ScrubProgress, ScrubReport, ScrubService } from "./scrub.js";

/** Where an asset's bytes are, as an owner or admin sees it in the manifest. */
export interface StoragePlacement {
  tier: Tier;
  /** A copy is on the replica store. */
  replicated: boolean;
}

/** The store-care passes as the admin API and the CLI run them. */
export interface StoreCareService {
  scrub(options?: { limit?: number; onProgress?: (progress: ScrubProgress) => void }): Promise<ScrubReport>;
  /** Throws `state_conflict` when no cold tier is configured. */
  lifecycle(options?: { limit?: number; onProgress?: (progress: { done: number; total: number; bytes: number }) => void }): Promise<LifecycleReport>;
  placementOf(sha256: string): Promise<StoragePlacement | undefined>;
  usageByTier(): Promise<Record<Tier, TierUsage>>;
}

export function createStoreCareService(deps: {
  repos: Pick<Repos, "blobs">;
  care: Pick<BlobCareRepo, "usageByTier">;
  scrub: ScrubService;
  lifecycle: LifecycleService | undefined;
}): StoreCareService {
  return {
    scrub: (options) => deps.scrub.run(options),
    async lifecycle(options) {
      if (!deps.lifecycle) throw new AppError("state_conflict", "no cold tier is configured (set ASSETD_COLD_STORAGE)");
      return deps.lifecycle.run(options);
    },
    async placementOf(sha256) {
      const blob = await deps.repos.blobs.get(sha256);
      return blob && { tier: blob.tier, replicated: blob.replicated };
    },
    usageByTier: () => deps.care.usageByTier(),
  };
}
