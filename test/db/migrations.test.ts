import { afterEach, describe, expect, it } from "vitest";

import { Migrator } from "kysely";
import { sqlDialect } from "../../src/db/dialect/index.js";
import { initial } from "../../src/db/migrations/001-initial.js";
import { phash } from "../../src/db/migrations/002-phash.js";
import { uploads } from "../../src/db/migrations/003-uploads.js";
import { access } from "../../src/db/migrations/004-access.js";
import { trash } from "../../src/db/migrations/005-trash.js";
import { replicaTier } from "../../src/db/migrations/006-replica-tier.js";
import { graph } from "../../src/db/migrations/007-graph.js";
import { eventRetention } from "../../src/db/migrations/009-event-retention.js";
import { migrate } from "../../src/db/migrations/index.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const pg = (await dialectTargets("migrations")).find((t) => t.dialect === "postgres")!;

/** Every migration, in order. */
const ALL = ["001_initial", "002_phash", "003_uploads", "004_access", "005_trash", "006_replica_tier", "007_graph", "008_webhooks", "009_event_retention", "010_prewarm", "011_login_codes"];

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
    expect(tables).toEqual(["asset", "asset_acl", "asset_event", "asset_tag", "blob", "job", "login_code", "maintenance_run", "prewarm_variant", "quota", "recipe_demand", "revoked_token", "stat_counter", "upload", "variant", "webhook", "webhook_attempt", "webhook_delivery"]);
  });

  it("applies 008_webhooks to a database that already ran 009 (it was added later)", async () => {
    const database = await fresh("sqlite");
    const db = database.handle.db;
    const dialect = sqlDialect("sqlite");
    const before = new Migrator({
      db,
      provider: {
        getMigrations: async () => ({
          "001_initial": initial(dialect), "002_phash": phash, "003_uploads": uploads, "004_access": access, "005_trash": trash,
          "006_replica_tier": replicaTier, "007_graph": graph, "009_event_retention": eventRetention(dialect),
        }),
      },
    });
    expect((await before.migrateToLatest()).error).toBeUndefined();
    expect(await migrate(db)).toEqual({ applied: ["008_webhooks", "010_prewarm", "011_login_codes"] });
    expect((await db.introspection.getTables()).map((t) => t.name)).toContain("webhook_delivery");
  });

  for (const dialect of ["sqlite", "postgres"] as const) {
    it.skipIf(dialect === "postgres" && pg.skip !== undefined)(`keeps public assets readable by anyone as a * read grant (${dialect})`, async () => {
      const database = await fresh(dialect);
      const db = database.handle.db;
      const before = new Migrator({
        db,
        provider: { getMigrations: async () => ({ "001_initial": initial(sqlDialect(dialect)), "002_phash": phash, "003_uploads": uploads }) },
        ...(dialect === "postgres" ? { migrationTableSchema: await sqlDialect(dialect).migrationSchema(db) } : {}),
      });
      expect((await before.migrateToLatest()).error).toBeUndefined();
      const row = { owner: "alice", filename: "a.jpg", kind: "image", status: "ready", created_at: 1, updated_at: 7 };
      await db.insertInto("asset").values([{ ...row, id: "public-one", public: 1 }, { ...row, id: "private-one", public: 0 }]).execute();
      expect(await migrate(db)).toEqual({ applied: ALL.slice(ALL.indexOf("004_access")) });
      const grants = await db.selectFrom("asset_acl").select(["asset_id", "principal", "permission", "created_at"]).execute();
      expect(grants.map((g) => ({ ...g, created_at: Number(g.created_at) }))).toEqual([
        { asset_id: "public-one", principal: "*", permission: "read", created_at: 7 },
      ]);
      expect((await db.selectFrom("asset").select(["id", "public"]).orderBy("id").execute()).map((a) => [a.id, Number(a.public)]))
        .toEqual([["private-one", 0], ["public-one", 1]]);
    });
  }

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
