import { afterEach, describe, expect, it } from "vitest";

import { migrate } from "../../src/db/migrations/index.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const pg = (await dialectTargets("migrations")).find((t) => t.dialect === "postgres")!;

/** Every migration, in order. */
const ALL = ["001_initial", "002_phash", "003_uploads"];

describe("migrations", () => {
  const databases: TestDatabase[] = [];
  const fresh = async (dialect: "sqlite" | "postgres") => {
    const database = await createTestDatabase(dialect, { migrate: false });
    databases.push(database);
    return database;
  };
  afterEach(async () => {
    await Promise.all(databases.splice(0).map((d) => d.dispose()));
  });

  it("creates the schema on SQLite, then finds nothing to do", async () => {
    const database = await fresh("sqlite");
    expect(await migrate(database.handle.db)).toEqual({ applied: ALL });
    expect(await migrate(database.handle.db, "sqlite")).toEqual({ applied: [] });
    const tables = (await database.handle.db.introspection.getTables()).map((t) => t.name).sort();
    expect(tables).toEqual(["asset", "asset_event", "asset_tag", "blob", "job", "quota", "upload", "variant"]);
  });

  describe.skipIf(pg.skip !== undefined)("on PostgreSQL", () => {
    it("applies once when several connections migrate the same schema at once", async () => {
      const database = await fresh("postgres");
      const handles = [database.handle, await database.open(), await database.open()];
      const reports = await Promise.all(handles.map((h) => migrate(h.db)));
      expect(reports.flatMap((r) => r.applied)).toEqual(ALL);
    });

    it("keeps schemas of one database apart (Kysely's bookkeeping tables included)", async () => {
      const [a, b, c] = await Promise.all([fresh("postgres"), fresh("postgres"), fresh("postgres")]);
      await migrate(a.handle.db);
      const reports = await Promise.all([migrate(b.handle.db), migrate(c.handle.db)]);
      expect(reports).toEqual([{ applied: ALL }, { applied: ALL }]);
      for (const database of [a, b, c]) {
        await database.handle.db.insertInto("job").values({
          id: "j", name: "extract-metadata", key: null, payload: "{}", state: "waiting", attempts: 0, max_attempts: 1,
          run_at: 0, created_at: 0, updated_at: 0,
        }).execute();
        expect(await database.handle.db.selectFrom("job").select("id").execute()).toEqual([{ id: "j" }]);
      }
    });
  });
});
