import { outOfSpaceError } from "../../domain/errors.js";

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

/** A full disk or quota as the catalog's 507 (see outOfSpaceError); anything else unchanged. */
export function toStorageError(e: unknown): unknown {
  return outOfSpaceError(e) ?? e;
}
