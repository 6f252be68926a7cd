import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDialectConfig,
} from "kysely";
import { mappingLockErrors } from "./sqlite-busy.js";

/**
 * Kysely's SQLite dialect with two changes that make several processes on one file safe:
 *
 * - Transactions start with BEGIN IMMEDIATE. Kysely's plain `begin` is DEFERRED: a
 *   transaction that reads first takes a snapshot, and in WAL mode its later upgrade to
 *   writer fails at once with SQLITE_BUSY_SNAPSHOT if another process committed meanwhile
 *   (the busy timeout does not help). IMMEDIATE takes the write lock up front and waits
 *   for it, so the transaction's reads are current and its writes cannot be refused.
 * - Migrations run in a transaction. SQLite has transactional DDL, but Kysely's adapter
 *   says it has not, so its Migrator would run unlocked and non-atomically: two processes
 *   starting on a new file both applied 001 ("table already exists"), and a failing
 *   migration would leave half a schema behind.
 *
 * Every connection it hands out reports a lock held past the busy timeout as `503
 * overloaded` (sqlite-busy.ts), so no caller above the adapter needs to know SQLite.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    return mappingLockErrors(await super.acquireConnection());
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
