import { randomBytes } from "node:crypto";
import pg from "pg";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, type DatabaseHandle } from "../../src/db/connect.js";
import { migrate } from "../../src/db/migrations/index.js";
import { dropTestDatabase, PG_URL, PGBOUNCER_URL, serverDatabaseUrl } from "../helpers/pg.js";

/**
 * Through pgbouncer in transaction pooling mode a session's state does not survive its
 * transaction. Migrations from several processes at once, then again on every start,
 * must neither hang on a lock left behind nor apply anything twice.
 */
const skip = PGBOUNCER_URL ? undefined : "ASSETD_TEST_PGBOUNCER_URL is not set (bash scripts/pgbouncer-test-server.sh start)";
if (skip) console.warn(`[pgbouncer] skipping: ${skip}`);

describe.skipIf(skip !== undefined)("PostgreSQL through pgbouncer (transaction pooling)", () => {
  const name = `assetd_bouncer_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  const handles: DatabaseHandle[] = [];

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create database ${name}`);
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await dropTestDatabase(admin, name);
    await admin.end();
  });

  it("migrates from three processes at once, and again on the next start, without waiting on a lock", async () => {
    for (let i = 0; i < 3; i++) handles.push(await openDatabase(serverDatabaseUrl(name)));
    const first = await Promise.all(handles.map((h) => migrate(h.db)));
    const applied = first.flatMap((r) => r.applied);
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied).toContain("009_event_retention");

    // Whichever server connections pgbouncer chose, no lock is left behind for the next start.
    const started = Date.now();
    const again = await Promise.all(handles.map((h) => migrate(h.db)));
    expect(again).toEqual([{ applied: [] }, { applied: [] }, { applied: [] }]);
    expect(Date.now() - started).toBeLessThan(10_000);

    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = ${name})`.execute(handles[0]!.db);
    expect(rows[0]!.n).toBe(0);
  }, 60_000);
});
