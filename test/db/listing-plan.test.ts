import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { listQuery } from "../../src/db/repos/assets.js";
import { createRepos } from "../../src/db/repos.js";
import { visibilityOf } from "../../src/domain/access.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const ASSETS = 100_000;

/**
 * A listing of 100k assets with grants stays a walk of an index in id order on both
 * dialects: visibility (own, public or granted) is a filter with one primary-key probe of
 * asset_acl per row, never a scan-and-sort of the table.
 */
for (const target of await dialectTargets("listing-plan")) {
  describe.skipIf(target.skip !== undefined)(`the listing query plan (${target.dialect})`, () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase(target.dialect);
      const db = database.handle.db;
      // 100k assets of 100 owners, every tenth public; every seventh shared with one of 500
      // users, and some with bob or the team: grants of one principal are a small share.
      const series = target.dialect === "postgres"
        ? sql`select n from generate_series(1, ${ASSETS}) as g(n)`
        : sql`with recursive g(n) as (select 1 union all select n + 1 from g where n < ${ASSETS}) select n from g`;
      await sql`
        insert into asset (id, owner, filename, kind, status, public, created_at, updated_at)
        select 'A' || lpad(cast(n as text), 25, '0'), 'owner' || cast(n % 100 as text), 'f.png', 'image', 'ready',
               case when n % 10 = 0 then 1 else 0 end, n, n
        from (${series}) as s
      `.execute(db).catch(async () => {
        // SQLite has no lpad: pad with printf.
        await sql`
          insert into asset (id, owner, filename, kind, status, public, created_at, updated_at)
          select printf('A%025d', n), 'owner' || (n % 100), 'f.png', 'image', 'ready', case when n % 10 = 0 then 1 else 0 end, n, n
          from (${series})
        `.execute(db);
      });
      await sql`
        insert into asset_acl (asset_id, principal, permission, created_at)
        select id,
               case when cast(substr(id, 2) as integer) % 70 = 0 then 'bob'
                    when cast(substr(id, 2) as integer) % 91 = 0 then 'group:team'
                    else 'user' || cast(cast(substr(id, 2) as integer) % 500 as text) end,
               'read', 0
        from asset where cast(substr(id, 2) as integer) % 7 = 0
      `.execute(db);
      await sql`analyze`.execute(db);
    }, 120_000);
    afterAll(async () => database?.dispose());

    async function plan(sub: string, groups: string[]): Promise<string> {
      const db = database.handle.db;
      const compiled = listQuery(db, {}, visibilityOf({ sub, groups, admin: false }), { limit: 101 }).compile();
      const explain = target.dialect === "postgres" ? "explain " : "explain query plan ";
      const { rows } = await db.executeQuery<Record<string, unknown>>({ ...compiled, sql: explain + compiled.sql });
      return rows.map((row) => String(row["QUERY PLAN"] ?? row.detail)).join("\n");
    }

    it("walks an index in id order with the grant probe as a filter", async () => {
      const text = await plan("bob", ["team"]);
      console.log(`[listing-plan] ${target.dialect}:\n${text}`);
      if (target.dialect === "postgres") {
        expect(text).toMatch(/Index Scan Backward using asset_pkey on asset/);
        expect(text).toMatch(/(Bitmap Index|Index Only|Index) Scan on asset_acl_(pk|principal)|Index (Only )?Scan using asset_acl_(pk|principal)/);
        expect(text).not.toMatch(/Seq Scan/);
        expect(text).not.toMatch(/\bSort\b/);
      } else {
        expect(text).toMatch(/SCAN asset USING INDEX sqlite_autoindex_asset_1|SCAN asset USING PRIMARY KEY/);
        expect(text).toMatch(/sqlite_autoindex_asset_acl_1|asset_acl_pk|USING PRIMARY KEY|USING COVERING INDEX/);
        expect(text).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
      }
    });

    it("returns what bob may see, newest first", async () => {
      const repos = createRepos(database.handle.db, target.dialect);
      const page = await repos.assets.list({}, visibilityOf({ sub: "bob", groups: ["team"], admin: false }), { limit: 5 });
      const numbers = page.map((a) => Number(a.id.slice(1)));
      expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
      for (const n of numbers) expect(n % 10 === 0 || n % 70 === 0 || n % 91 === 0).toBe(true);
      expect(numbers[0]).toBe(100_000);
    });
  });
}
