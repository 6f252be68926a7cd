import type { Kysely, Transaction } from "kysely";
import { ANYONE, PUBLIC_GRANT, type Grant, type Permission } from "../../domain/grants.js";
import type { AclRepo, TokenRepo } from "../../ports/repos.js";
import type { Database } from "../schema.js";

/**
 * Grants of `asset_acl`. The `*` read grant and `asset.public` say the same thing; every
 * write here keeps them equal in the same transaction (migration 004 explains why both).
 */

type Db = Kysely<Database>;

const byPrincipalThenPermission = (a: Grant, b: Grant) =>
  a.principal === b.principal ? a.permission.localeCompare(b.permission) : a.principal < b.principal ? -1 : 1;

const isPublicGrant = (grant: Grant) => grant.principal === ANYONE && grant.permission === "read";

async function syncPublic(trx: Transaction<Database>, assetId: string, at: number): Promise<void> {
  const grant = await trx
    .selectFrom("asset_acl").select("asset_id")
    .where("asset_id", "=", assetId).where("principal", "=", PUBLIC_GRANT.principal).where("permission", "=", PUBLIC_GRANT.permission)
    .executeTakeFirst();
  await trx.updateTable("asset").set({ public: grant ? 1 : 0, updated_at: at }).where("id", "=", assetId).execute();
}

/** Inside the caller's transaction: makes the `*` read grant match `isPublic`. */
export async function writePublicGrant(trx: Transaction<Database>, assetId: string, isPublic: boolean, at: number): Promise<void> {
  if (isPublic) {
    await trx.insertInto("asset_acl")
      .values({ asset_id: assetId, principal: PUBLIC_GRANT.principal, permission: PUBLIC_GRANT.permission, created_at: at })
      .onConflict((oc) => oc.columns(["asset_id", "principal", "permission"]).doNothing())
      .execute();
  } else {
    await trx.deleteFrom("asset_acl")
      .where("asset_id", "=", assetId).where("principal", "=", PUBLIC_GRANT.principal).where("permission", "=", PUBLIC_GRANT.permission)
      .execute();
  }
}

export function createAclRepo(db: Db): AclRepo {
  return {
    async list(assetId) {
      const rows = await db.selectFrom("asset_acl").select(["principal", "permission"]).where("asset_id", "=", assetId).execute();
      return rows.map((row) => ({ principal: row.principal, permission: row.permission as Permission })).sort(byPrincipalThenPermission);
    },

    async permissionsOf(assetId, principals) {
      if (principals.length === 0) return [];
      const rows = await db
        .selectFrom("asset_acl").select("permission").distinct()
        .where("asset_id", "=", assetId).where("principal", "in", principals)
        .execute();
      return rows.map((row) => row.permission as Permission);
    },

    async replace(assetId, grants, at) {
      return db.transaction().execute(async (trx) => {
        const exists = await trx.selectFrom("asset").select("id").where("id", "=", assetId).executeTakeFirst();
        if (!exists) return false;
        await trx.deleteFrom("asset_acl").where("asset_id", "=", assetId).execute();
        if (grants.length > 0) {
          await trx.insertInto("asset_acl")
            .values(grants.map((grant) => ({ asset_id: assetId, principal: grant.principal, permission: grant.permission, created_at: at })))
            .execute();
        }
        await syncPublic(trx, assetId, at);
        return true;
      });
    },

    async add(assetId, grant, at) {
      return db.transaction().execute(async (trx) => {
        const exists = await trx.selectFrom("asset").select("id").where("id", "=", assetId).executeTakeFirst();
        if (!exists) return false;
        await trx.insertInto("asset_acl")
          .values({ asset_id: assetId, principal: grant.principal, permission: grant.permission, created_at: at })
          .onConflict((oc) => oc.columns(["asset_id", "principal", "permission"]).doNothing())
          .execute();
        if (isPublicGrant(grant)) await syncPublic(trx, assetId, at);
        return true;
      });
    },

    async remove(assetId, grant, at) {
      return db.transaction().execute(async (trx) => {
        const result = await trx.deleteFrom("asset_acl")
          .where("asset_id", "=", assetId).where("principal", "=", grant.principal).where("permission", "=", grant.permission)
          .executeTakeFirst();
        if (isPublicGrant(grant)) await syncPublic(trx, assetId, at);
        return Number(result.numDeletedRows) > 0;
      });
    },
  };
}

export function createTokenRepo(db: Db): TokenRepo {
  return {
    async revoke(jti, expiresAt, at) {
      await db.insertInto("revoked_token")
        .values({ jti, revoked_at: at, expires_at: expiresAt })
        .onConflict((oc) => oc.column("jti").doNothing())
        .execute();
    },
    async isRevoked(jti) {
      return (await db.selectFrom("revoked_token").select("jti").where("jti", "=", jti).executeTakeFirst()) !== undefined;
    },
    async forgetExpired(now) {
      const result = await db.deleteFrom("revoked_token").where("expires_at", "is not", null).where("expires_at", "<=", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
