import type SqliteDatabase from "better-sqlite3";
import { popcount64 } from "../../domain/phash.js";

/**
 * SQL functions SQLite lacks and our queries need, registered on every connection the
 * dialect opens (sqlite.ts), so each query can use them and no code path can forget to.
 */
export function registerSqliteFunctions(db: SqliteDatabase.Database): void {
  // safeIntegers: the arguments arrive as BigInt, all 64 bits intact. Without it
  // better-sqlite3 hands over a double, and perceptual hashes (which use every bit,
  // the sign bit included) would lose their low bits. Deterministic, so SQLite may
  // evaluate it once per row and use it in indexes and generated columns.
  db.function("hamming64", { deterministic: true, safeIntegers: true }, hamming64);
}

/** Bits that differ between two signed 64-bit integers; NULL when either is NULL, as SQL operators are. */
export function hamming64(a: unknown, b: unknown): number | null {
  if (a === null || b === null) return null;
  return popcount64(toInt64(a) ^ toInt64(b));
}

function toInt64(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw new TypeError(`hamming64 takes 64-bit integers, got ${typeof value}`);
}
