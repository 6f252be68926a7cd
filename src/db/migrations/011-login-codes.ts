import type { Kysely, Migration } from "kysely";

/**
 * One-time console sign-in codes (`POST /v1/admin/login-codes`, `assetd login-link`).
 * Only the SHA-256 of a code is kept, so the table gives away nothing that signs in; any
 * process sharing the database can redeem a code, once: `used_at` is set by one
 * conditional update. `admin` is 0/1 like every boolean here.
 */
export const loginCodes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("login_code")
      .addColumn("code_hash", "text", (c) => c.primaryKey())
      .addColumn("sub", "text", (c) => c.notNull())
      .addColumn("admin", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("used_at", "bigint")
      .execute();
    await db.schema.createIndex("login_code_expires").on("login_code").column("expires_at").execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("login_code").ifExists().execute();
  },
};
