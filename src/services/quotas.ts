import { quotaView, type QuotaView } from "../domain/quota.js";
import type { Repos } from "../ports/repos.js";

export interface QuotaServiceDeps {
  repos: Pick<Repos, "quotas">;
  /** null: no per-owner limit unless an admin sets one. */
  defaultMaxBytes: number | null;
}

/**
 * Storage quotas as callers see them: the limit that applies to an owner and where it
 * comes from. Owners read their own (asset lists, stats); admins read and set any.
 */
export function createQuotaService(deps: QuotaServiceDeps) {
  const { repos, defaultMaxBytes } = deps;
  return {
    defaultMaxBytes,
    async of(owner: string): Promise<QuotaView> {
      return quotaView(await repos.quotas.get(owner), defaultMaxBytes);
    },
    async list(): Promise<QuotaView[]> {
      return (await repos.quotas.list()).map((row) => quotaView(row, defaultMaxBytes));
    },
    /** `maxBytes` null returns the owner to the default. */
    async setLimit(owner: string, maxBytes: number | null): Promise<QuotaView> {
      return quotaView(await repos.quotas.setLimit(owner, maxBytes), defaultMaxBytes);
    },
  };
}

export type QuotaService = ReturnType<typeof createQuotaService>;
