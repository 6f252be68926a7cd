import { PostgresAdapter, PostgresDialect, sql, type Kysely, type MigrationLockOptions } from "kysely";

/** Kysely's own lock id, so servers of an older release and this one still exclude each other. */
const LOCK_ID = BigInt("3853314791062309107");

/**
 * Kysely's PostgreSQL migrator takes a *session* advisory lock, runs the migrations in a
 * transaction, then unlocks in a third statement. Behind pgbouncer in transaction pooling
 * mode those three can land on three server connections: the unlock misses, and the lock
 * stays held by an idle server connection, so the next start waits on it for an hour.
 *
 * Here the lock is transaction-scoped instead: acquiring opens the transaction and takes
 * `pg_advisory_xact_lock` in it. The migrator's own `begin` then finds a transaction in
 * progress (PostgreSQL answers with a warning, not an error), its `commit` or `rollback`
 * ends ours and releases the lock with it, on whichever connection the pooler chose, and
 * there is nothing left to unlock.
 */
export class TransactionLockAdapter extends PostgresAdapter {
  override async acquireMigrationLock(db: Kysely<any>, _options: MigrationLockOptions): Promise<void> {
    await sql`begin`.execute(db);
    try {
      await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_ID)})`.execute(db);
    } catch (error) {
      // The connection goes back to the pool: never with a transaction left open.
      await sql`rollback`.execute(db).catch(() => undefined);
      throw error;
    }
  }

  override async releaseMigrationLock(_db: Kysely<any>, _options: MigrationLockOptions): Promise<void> {
    // Released by the migrator's commit or rollback.
  }
}

export class PooledPostgresDialect extends PostgresDialect {
  override createAdapter(): TransactionLockAdapter {
    return new TransactionLockAdapter();
  }
}
