import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { sql, type SqliteDialectConfig } from "kysely";
import { registerSqliteFunctions } from "./sqlite-functions.js";
import { ImmediateSqliteDialect } from "./sqlite-transactions.js";
import { sqliteErrorCode } from "./sqlite-busy.js";
import { errorCode, type SqlDialect } from "./types.js";

/**
 * SQLite through better-sqlite3. Kysely keeps one connection per process behind a mutex,
 * so in-process statements never contend; other processes on the same file are handled by
 * WAL (readers do not block the writer), the busy timeout (writers queue) and immediate
 * transactions (sqlite-transactions.ts).
 */
/**
 * Kysely prepares every query afresh; preparing costs several times what running a small
 * indexed query does. Statements are reusable (Kysely runs one query at a time on this
 * connection), so keep the most recent ones by SQL text. SQLite re-prepares a cached
 * statement by itself after a schema change.
 */
function withStatementCache(db: SqliteDatabase.Database, max: number): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => db.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText);
      if (!statement) {
        statement = db.prepare(sqlText);
        if (statements.size >= max) statements.delete(statements.keys().next().value!);
        statements.set(sqlText, statement);
      }
      return statement;
    },
  };
}

/** What Kysely's SQLite driver uses of a database. */
type KyselySqliteDatabase = SqliteDialectConfig["database"] extends infer D ? Exclude<D, (...args: never[]) => unknown> : never;

export const sqliteDialect: SqlDialect = {
  name: "sqlite",

  createDialect(target, options) {
    return new ImmediateSqliteDialect({
      database: async () => {
        if (target !== ":memory:") mkdirSync(dirname(target), { recursive: true });
        const db = new SqliteDatabase(target);
        db.pragma("journal_mode = WAL");
        db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
        // NORMAL is durable across application crashes in WAL mode; only an OS crash or
        // power loss can drop the last transactions, never corrupt the file.
        db.pragma("synchronous = NORMAL");
        db.pragma("foreign_keys = ON");
        registerSqliteFunctions(db);
        return withStatementCache(db, 256);
      },
    });
  },

  autoIncrementId: { type: "integer", build: (col) => col.primaryKey().autoIncrement() },

  skipLocked: (query) => query,

  // A function of ours on every connection (sqlite-functions.ts).
  hammingDistance: (a, b) => sql<number>`hamming64(${a}, ${b})`,

  migrationSchema: async () => undefined,

  isUniqueViolation(error) {
    const code = errorCode(error);
    return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
  },

  isMigrationRace(error) {
    const code = sqliteErrorCode(error);
    return code !== undefined && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
  },
};
