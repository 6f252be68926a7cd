/**
 * The dialect matrix for database tests (after Kysely's test/node/src/test-setup.ts):
 * SQLite in a temporary file always; PostgreSQL when reachable, each database in a fresh
 * schema that is dropped afterwards. When PostgreSQL is down its suites are skipped with
 * the reason printed, never silently.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { PG_URL } from "../helpers/pg.js";
import { sql } from "kysely";

import { openDatabase, type DatabaseHandle } from "../../src/db/connect.js";
import type { DialectName, OpenOptions } from "../../src/db/dialect/index.js";
import { migrate } from "../../src/db/migrations/index.js";

export { PG_URL };

export interface DialectTarget {
  dialect: DialectName;
  /** Why this dialect's suites are skipped; undefined when they run. */
  skip: string | undefined;
}

let pgProbe: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers, else the reason it does not. */
export function probePostgres(): Promise<string | undefined> {
  pgProbe ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query("select 1");
      return undefined;
    } catch (error) {
      return `PostgreSQL at ${PG_URL} is not reachable (${error instanceof Error ? error.message : String(error)}); set ASSETD_TEST_PG_URL or start it`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return pgProbe;
}

/** The dialects to run a suite on, with a printed reason for each skipped one. */
export async function dialectTargets(suite: string): Promise<DialectTarget[]> {
  const pgSkip = await probePostgres();
  if (pgSkip) console.warn(`[${suite}] skipping PostgreSQL: ${pgSkip}`);
  return [
    { dialect: "sqlite", skip: undefined },
    { dialect: "postgres", skip: pgSkip },
  ];
}

/** An empty database of one dialect (migrated unless asked not to), private to the caller. */
export interface TestDatabase {
  readonly dialect: DialectName;
  readonly url: string;
  readonly options: OpenOptions;
  handle: DatabaseHandle;
  /** Another connection (pool) to the same database, as a second process would have. */
  open(): Promise<DatabaseHandle>;
  /** Deletes every row, keeping the schema. */
  reset(): Promise<void>;
  /** Closes every handle opened here and removes the file or schema. */
  dispose(): Promise<void>;
}

const TABLES = ["webhook_attempt", "webhook_delivery", "webhook", "job", "variant", "upload", "quota", "revoked_token", "asset_acl", "asset_event", "asset_tag", "asset", "blob"] as const;

export async function createTestDatabase(dialect: DialectName, setup: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let url: string;
  let options: OpenOptions = {};
  let removeStorage: () => Promise<void>;

  if (dialect === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "assetd-db-"));
    url = `sqlite:${join(dir, "assetd.sqlite")}`;
    removeStorage = () => rm(dir, { recursive: true, force: true });
  } else {
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`create schema ${schema}`);
    } finally {
      await admin.end();
    }
    url = PG_URL;
    options = { schema };
    removeStorage = async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    };
  }

  const handles: DatabaseHandle[] = [];
  const open = async () => {
    const handle = await openDatabase(url, options);
    handles.push(handle);
    return handle;
  };
  const handle = await open();
  if (setup.migrate !== false) await migrate(handle.db);

  return {
    dialect,
    url,
    options,
    handle,
    open,
    async reset() {
      for (const table of TABLES) await sql`delete from ${sql.table(table)}`.execute(handle.db);
    },
    async dispose() {
      await Promise.all(handles.map((h) => h.close()));
      await removeStorage();
    },
  };
}
