import type { ColumnDefinitionBuilder, CreateTableBuilder, Dialect, Expression, Kysely, RawBuilder, SelectQueryBuilder } from "kysely";
import type { Database } from "../schema.js";

export type DialectName = "sqlite" | "postgres";

/** A column type as `addColumn` accepts it (Kysely does not export the name). */
export type ColumnType = Parameters<CreateTableBuilder<string>["addColumn"]>[1];

export interface OpenOptions {
  /** PostgreSQL: the schema to work in (sets `search_path` on every pooled connection). */
  schema?: string;
  /** PostgreSQL: pool size (default 10). */
  poolMax?: number;
  /** SQLite: how long a writer waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** PostgreSQL: told about errors on idle pooled connections (they are replaced). */
  onIdleError?: (error: Error) => void;
  /** Told about every query after it ran (tracing): its SQL, duration, and error if any. */
  onQuery?: (query: { sql: string; durationMs: number; error?: unknown }) => void;
}

/**
 * Everything that differs between SQLite and PostgreSQL, decided here and nowhere else
 * (Kysely's own dialect folder is the model: same shape, one file per dialect).
 *
 * Transactions need no entry: `db.transaction()` takes the write lock up front on SQLite
 * (sqlite-transactions.ts), and on PostgreSQL the row locks of UPDATE and INSERT ... ON
 * CONFLICT serialise the writers that matter, READ COMMITTED re-checking a compare-and-set
 * predicate against the winner's row version.
 */
export interface SqlDialect {
  readonly name: DialectName;
  /** Builds the Kysely dialect for a connection target (a file path or a postgres:// URL). */
  createDialect(target: string, options: OpenOptions): Dialect;
  /** Column type and constraints of an auto-increment integer primary key. */
  readonly autoIncrementId: {
    readonly type: ColumnType;
    readonly build: (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
  };
  /**
   * Makes a "pick one row to claim" subquery safe under concurrent claimers: PostgreSQL
   * locks the row and skips rows other claimers hold; SQLite needs nothing because a
   * write statement holds the database's single write lock from start to end.
   */
  skipLocked<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /**
   * The number of bits that differ between two signed 64-bit integers (perceptual hashes,
   * domain/phash.ts); NULL when either is NULL. Neither database has it under one name:
   * PostgreSQL XORs and counts bits of the bytes, SQLite calls our function.
   */
  hammingDistance(a: Expression<unknown>, b: Expression<unknown>): RawBuilder<number>;
  /**
   * Where Kysely's migration bookkeeping tables live. Must be explicit on PostgreSQL: left
   * unset, Kysely's Migrator looks for its tables in every schema of the database and, if
   * another schema has them, skips creating ours and then fails to find them.
   */
  migrationSchema(db: Kysely<Database>): Promise<string | undefined>;
  /** A UNIQUE or PRIMARY KEY constraint rejected the statement. */
  isUniqueViolation(error: unknown): boolean;
  /**
   * A migration attempt failed for a reason that goes away by trying again: another
   * process held the lock too long, or (PostgreSQL) Kysely's Migrator introspects every
   * schema of the database and trips over a table or schema dropped meanwhile.
   */
  isMigrationRace(error: unknown): boolean;
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
