import { sql, type Kysely, type Migration } from "kysely";

/**
 * Access grants and revoked tokens (DESIGN §3 `asset_acl`, §10 "Access").
 *
 * `asset_acl` holds one row per (asset, principal, permission); a principal is a user id,
 * `group:<name>` or `*` (anyone, anonymous included). Its primary key serves "the grants of
 * one asset"; `asset_acl_principal` serves listings ("every asset this principal may read"),
 * which probe it per candidate row while walking the asset table in id order.
 *
 * `asset.public` stays, as the stored answer to "is there a `*` read grant": delivery of a
 * public asset (the hot path) needs no second query. The repository changes both in one
 * transaction. Existing public assets get their `*` read grant here.
 *
 * `revoked_token` lists the `jti` of tokens refused from now on; `expires_at` (the token's
 * own `exp`) lets old rows be dropped once the token would have expired anyway.
 */
export const access: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("asset_acl")
      .addColumn("asset_id", "text", (c) => c.notNull().references("asset.id").onDelete("cascade"))
      .addColumn("principal", "text", (c) => c.notNull())
      .addColumn("permission", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("asset_acl_pk", ["asset_id", "principal", "permission"])
      .execute();
    await db.schema.createIndex("asset_acl_principal").on("asset_acl").columns(["principal", "permission", "asset_id"]).execute();

    await sql`
      insert into asset_acl (asset_id, principal, permission, created_at)
      select id, '*', 'read', updated_at from asset where public = 1
    `.execute(db);

    await db.schema
      .createTable("revoked_token")
      .addColumn("jti", "text", (c) => c.primaryKey())
      .addColumn("revoked_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint")
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("revoked_token").execute();
    await db.schema.dropTable("asset_acl").execute();
  },
};
