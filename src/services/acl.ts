import { isOwnerView, type Caller } from "../domain/access.js";
import { AppError, NotFoundError } from "../domain/errors.js";
import { MAX_GRANTS_PER_ASSET, type Grant } from "../domain/grants.js";
import type { Clock } from "../ports/clock.js";
import type { Repos } from "../ports/repos.js";
import type { AssetService } from "./assets.js";

export interface AclServiceDeps {
  repos: Pick<Repos, "acl">;
  assets: Pick<AssetService, "find">;
  clock: Clock;
}

/**
 * Managing an asset's grants (DESIGN §10): owners and admins only. Anyone who cannot read
 * the asset gets 404 as everywhere; a reader who does not own it, 403.
 */
export function createAclService(deps: AclServiceDeps) {
  const { repos, assets, clock } = deps;

  async function manageable(caller: Caller, id: string) {
    const asset = await assets.find(caller, id, { tags: false });
    if (!isOwnerView(caller, asset)) throw new AppError("forbidden", "only the owner or an admin may manage this asset's grants");
    return asset;
  }

  return {
    async list(caller: Caller, id: string): Promise<Grant[]> {
      const asset = await manageable(caller, id);
      return repos.acl.list(asset.id);
    },

    async replace(caller: Caller, id: string, grants: readonly Grant[]): Promise<Grant[]> {
      const asset = await manageable(caller, id);
      if (!(await repos.acl.replace(asset.id, grants, clock.now()))) throw new NotFoundError();
      return repos.acl.list(asset.id);
    },

    async add(caller: Caller, id: string, grant: Grant): Promise<Grant> {
      const asset = await manageable(caller, id);
      const current = await repos.acl.list(asset.id);
      const present = current.some((g) => g.principal === grant.principal && g.permission === grant.permission);
      if (!present && current.length >= MAX_GRANTS_PER_ASSET) {
        throw new AppError("invalid_parameter", `at most ${MAX_GRANTS_PER_ASSET} grants per asset`, { parameter: "grants" });
      }
      if (!(await repos.acl.add(asset.id, grant, clock.now()))) throw new NotFoundError();
      return grant;
    },

    async remove(caller: Caller, id: string, grant: Grant): Promise<void> {
      const asset = await manageable(caller, id);
      if (!(await repos.acl.remove(asset.id, grant, clock.now()))) throw new NotFoundError("grant");
    },
  };
}

export type AclService = ReturnType<typeof createAclService>;
