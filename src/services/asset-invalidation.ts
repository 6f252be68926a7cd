import type { Repos } from "../ports/repos.js";

/**
 * The one place where every committed change to what delivery reads of an asset (its row,
 * its grants) is noticed: the `Repos` every service and job of a process uses, wrapped, so
 * each write below calls `changed(assetId)` once its transaction has settled — before the
 * writer's own call returns. State transitions, PATCH, grants, trash, restore, purge,
 * upload completion and re-extraction all end in one of these methods; a service cannot
 * commit such a change without passing through here.
 *
 * `changed` runs after the write settles, committed or not: a rolled-back write only
 * costs a needless re-read. Running it before the commit would let a read in between store
 * the old row again.
 *
 * test/db/asset-invalidation.test.ts holds every repository method to this table: a new
 * method is either listed as a write here or as a read there, and only the repository files
 * named there may write to `asset` or `asset_acl`.
 */
type Changed = (assetId: string) => void;

type AnyMethod = (...args: never[]) => Promise<unknown>;

/** For each write, which argument names the asset. */
export const ASSET_WRITES = {
  assets: {
    transition: (id: string) => id,
    patch: (id: string) => id,
    replaceMeta: (id: string) => id,
  },
  acl: {
    replace: (assetId: string) => assetId,
    add: (assetId: string) => assetId,
    remove: (assetId: string) => assetId,
  },
  trash: {
    restore: (id: string) => id,
    purge: (id: string) => id,
  },
  uploads: {
    open: (asset: { id: string }) => asset.id,
    complete: (record: { assetId: string }) => record.assetId,
    close: (assetId: string) => assetId,
  },
  repos: {
    recordIngest: (record: { asset: { id: string } }) => record.asset.id,
    softDelete: (id: string) => id,
  },
} as const;

type Group = Exclude<keyof typeof ASSET_WRITES, "repos">;

function wrapMethods<T extends object>(target: T, writes: Record<string, (arg: never) => string>, changed: Changed): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, assetOf] of Object.entries(writes)) {
    const method = (target as Record<string, AnyMethod>)[name];
    if (typeof method !== "function") throw new Error(`no repository method ${name} to watch`);
    wrapped[name] = async (...args: never[]) => {
      try {
        return await method.apply(target, args);
      } finally {
        changed(assetOf(args[0] as never));
      }
    };
  }
  // The repository objects are plain records of functions (db/repos.ts): copying keeps every read as it is.
  return { ...target, ...wrapped };
}

/** `repos` with `changed(assetId)` after every write to an asset's row or grants. */
export function withAssetInvalidation(repos: Repos, changed: Changed): Repos {
  const groups = Object.fromEntries(
    (Object.keys(ASSET_WRITES).filter((name) => name !== "repos") as Group[])
      .map((group) => [group, wrapMethods(repos[group], ASSET_WRITES[group], changed)]),
  ) as Pick<Repos, Group>;
  return { ...wrapMethods(repos, ASSET_WRITES.repos, changed), ...groups };
}
