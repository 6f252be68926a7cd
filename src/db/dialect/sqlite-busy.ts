import type { CompiledQuery, DatabaseConnection, QueryResult } from "kysely";
import { AppError } from "../../domain/errors.js";
import { errorCode } from "./types.js";

/**
 * SQLite answers SQLITE_BUSY ("database is locked") when another process held the write
 * lock for longer than the busy timeout. That is contention, not a fault: the caller is
 * told to come back (`503 overloaded` with `Retry-After`) instead of seeing a 500. The
 * driver error stays as `cause` for the logs (and for isMigrationRace, which retries it).
 */
export function lockedError(error: unknown): unknown {
  const code = errorCode(error);
  if (code === undefined || !(code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) return error;
  return new AppError("overloaded", "the database is busy; retry shortly", { retryAfter: 1 }, { cause: error });
}

/** The SQLite error code behind an error, looking through the mapping above. */
export function sqliteErrorCode(error: unknown): string | undefined {
  return errorCode(error instanceof AppError ? error.cause : error);
}

/** A connection whose driver errors pass through `lockedError`: every query, transaction and stream. */
export function mappingLockErrors(connection: DatabaseConnection): DatabaseConnection {
  return {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      try {
        return await connection.executeQuery<R>(query);
      } catch (error) {
        throw lockedError(error);
      }
    },
    async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
      try {
        yield* connection.streamQuery<R>(query, chunkSize);
      } catch (error) {
        throw lockedError(error);
      }
    },
  };
}
