import { AppError } from "../../domain/errors.js";

/** The errno code of a Node system error (`ENOENT`, …), if `e` is one. */
export function errnoOf(e: unknown): string | undefined {
  if (e instanceof Error && "code" in e && typeof e.code === "string") return e.code;
  return undefined;
}

/**
 * No object at the path: missing (ENOENT), a parent is a file (ENOTDIR), or the path is a
 * fan-out directory (EISDIR), which is a key prefix, not an object.
 */
export function isMissing(e: unknown): boolean {
  const code = errnoOf(e);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

/**
 * A full disk or an exhausted quota is an operational condition the client should see as
 * 507, not a 500; anything else passes through unchanged.
 */
export function toStorageError(e: unknown): unknown {
  const code = errnoOf(e);
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new AppError("insufficient_storage", "the store is out of space", {}, { cause: e });
  }
  return e;
}
