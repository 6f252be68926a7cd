import pg from "pg";
import { sql } from "kysely";
import { PooledPostgresDialect } from "./postgres-migration-lock.js";
import { errorCode, type SqlDialect } from "./types.js";

const INT8_OID = 20;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * pg returns int8 as strings because they may exceed 2^53. Ours are byte sizes, counters
 * and epoch milliseconds, all far below it, and the port types are numbers. Per pool, not
 * `pg.types.setTypeParser`, so we do not change other pg users in the process.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

export const postgresDialect: SqlDialect = {
  name: "postgres",

  createDialect(target, options) {
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw new Error(`invalid PostgreSQL schema name: ${options.schema}`);
    }
    const pool = new pg.Pool({
      connectionString: target,
      max: options.poolMax ?? 10,
      types,
      // A startup parameter, so every pooled connection works in the schema from its
      // first query; a `SET` after connect could race the first query.
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle pooled connection that the server closes (restart, failover, admin command)
    // emits 'error' on the pool; unheard, that would crash the process. The pool drops the
    // broken client and the next query opens a fresh one.
    pool.on("error", (error) => {
      options.onIdleError?.(error);
    });
    return new PooledPostgresDialect({ pool });
  },

  autoIncrementId: { type: "bigserial", build: (col) => col.primaryKey() },

  skipLocked: (query) => query.forUpdate().skipLocked(),

  // `#` is bigint XOR; bit_count() takes bit strings and bytea (PostgreSQL 14+), not
  // integers, and int8send gives the 8 bytes of the result.
  hammingDistance: (a, b) => sql<number>`bit_count(int8send(${a} # ${b}))`,

  async migrationSchema(db) {
    // The schema our tables go to: the first existing one on the search_path.
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const schema = rows[0]?.schema;
    if (!schema) throw new Error("PostgreSQL has no current schema: check search_path");
    return schema;
  },

  isUniqueViolation(error) {
    return errorCode(error) === "23505";
  },

  isMigrationRace(error) {
    // serialization_failure, deadlock_detected, lock_not_available; invalid_schema_name and
    // undefined_table when another schema's objects vanish under the introspection query.
    const code = errorCode(error);
    return code === "40001" || code === "40P01" || code === "55P03" || code === "3F000" || code === "42P01";
  },
};
