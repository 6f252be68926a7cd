import { fileURLToPath } from "node:url";
import { Kysely, sql } from "kysely";
import { sqlDialect, type DialectName, type OpenOptions } from "./dialect/index.js";
import type { Database } from "./schema.js";

export type { DialectName, OpenOptions } from "./dialect/index.js";
// Start-up needs both; one import for the composition root.
export { migrate, MigrationError, type MigrationReport } from "./migrations/index.js";

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Closes the pool or the file. Idempotent. */
  close(): Promise<void>;
}

interface Target {
  dialect: DialectName;
  target: string;
}

/**
 * `postgres://` and `postgresql://` URLs go to PostgreSQL; `sqlite:<path>`,
 * `sqlite://<path>`, `file:` URLs and plain paths to SQLite (`sqlite::memory:` for an
 * in-memory database, which is only useful in a single process).
 */
export function parseDatabaseUrl(url: string): Target {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres", target: url };
  if (/^file:/i.test(url)) return { dialect: "sqlite", target: fileURLToPath(url) };
  const match = /^sqlite:(?:\/\/)?(.*)$/i.exec(url);
  const target = match ? match[1]! : url;
  if (target === "") throw new Error(`database URL names no SQLite file: ${url}`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw new Error(`unsupported database URL: ${url}`);
  return { dialect: "sqlite", target };
}

/**
 * Opens the metadata database and runs one query, so a wrong URL, an unreachable server
 * or an unwritable file fails here (at start-up) rather than on the first request. Does
 * not migrate: call `migrate(db)` (migrations/) once at start-up.
 */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<DatabaseHandle> {
  const { dialect, target } = parseDatabaseUrl(url);
  const onQuery = options.onQuery;
  const db = new Kysely<Database>({
    dialect: sqlDialect(dialect).createDialect(target, options),
    ...(onQuery ? {
      log: (event) => onQuery({ sql: event.query.sql, durationMs: event.queryDurationMillis, ...(event.level === "error" ? { error: event.error } : {}) }),
    } : {}),
  });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open the ${dialect} database (${redact(url)}): ${detail}`, { cause: error });
  }
  return { db, dialect, close: () => db.destroy() };
}

/** Error messages end up in logs: never print a password from the URL. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}
