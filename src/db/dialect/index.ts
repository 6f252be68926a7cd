import { PostgresAdapter, SqliteAdapter, type Kysely } from "kysely";
import type { Database } from "../schema.js";
import { postgresDialect } from "./postgres.js";
import { sqliteDialect } from "./sqlite.js";
import type { DialectName, SqlDialect } from "./types.js";

export type { DialectName, OpenOptions, SqlDialect } from "./types.js";

export function sqlDialect(name: DialectName): SqlDialect {
  return name === "postgres" ? postgresDialect : sqliteDialect;
}

/** Which dialect a Kysely instance speaks, for callers that were handed only `db`. */
export function detectDialect(db: Kysely<Database>): DialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return "postgres";
  if (adapter instanceof SqliteAdapter) return "sqlite";
  throw new Error(`unsupported database adapter: ${adapter.constructor.name}`);
}
