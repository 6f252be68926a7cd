import type { Kysely } from "kysely";
import type { LoginCodeRepo } from "../../ports/repos.js";
import type { Database } from "../schema.js";

export function createLoginCodeRepo(db: Kysely<Database>): LoginCodeRepo {
  return {
    async create(row) {
      await db.insertInto("login_code")
        .values({ code_hash: row.codeHash, sub: row.sub, admin: row.admin ? 1 : 0, created_at: row.createdAt, expires_at: row.expiresAt, used_at: null })
        .execute();
    },

    async redeem(codeHash, at) {
      // The guard is the update itself: of concurrent redeems, one changes the row.
      const result = await db.updateTable("login_code").set({ used_at: at })
        .where("code_hash", "=", codeHash).where("used_at", "is", null).where("expires_at", ">", at)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return undefined;
      const row = await db.selectFrom("login_code").select(["sub", "admin"]).where("code_hash", "=", codeHash).executeTakeFirst();
      return row ? { sub: row.sub, admin: Number(row.admin) === 1 } : undefined;
    },

    async forgetExpired(before) {
      const result = await db.deleteFrom("login_code").where("expires_at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
