import { resolve, sep } from "node:path";

/**
 * Object keys come from content hashes (raw/ab/cd/<sha256>, variants/ab/cd/<hex>), but
 * they end up as filesystem paths, so a key is checked before it touches the disk: a
 * crafted key such as `../../etc/passwd` or `/etc/passwd` must never escape the root.
 */
const KEY_CHARS = /^[a-z0-9/._-]+$/;

export class InvalidKeyError extends Error {
  constructor(key: string, why: string) {
    super(`invalid storage key ${JSON.stringify(key)}: ${why}`);
    this.name = "InvalidKeyError";
  }
}

/** Shared by keys and list prefixes: only the allowed characters, nothing that climbs. */
function checkCommon(value: string): void {
  if (!KEY_CHARS.test(value)) throw new InvalidKeyError(value, "only [a-z0-9/._-] allowed");
  if (value.includes("..")) throw new InvalidKeyError(value, "'..' is not allowed");
  if (value.startsWith("/")) throw new InvalidKeyError(value, "must not start with '/'");
  if (value.includes("//")) throw new InvalidKeyError(value, "empty path segment");
}

export function assertKey(key: string): void {
  checkCommon(key);
  for (const segment of key.split("/")) {
    if (segment === "") throw new InvalidKeyError(key, "empty path segment");
    // Dot-segments would alias other keys ("a/./b"), and the root's dot-entries are ours:
    // a key like ".staging/x" must not reach into uncommitted uploads.
    if (segment.startsWith(".")) throw new InvalidKeyError(key, "segments must not start with '.'");
  }
}

/** A list prefix may be empty or end in "/" (a "directory"), or cut a segment short. */
export function assertPrefix(prefix: string): void {
  if (prefix === "") return;
  checkCommon(prefix);
  if (prefix.split("/").some((segment) => segment.startsWith("."))) {
    throw new InvalidKeyError(prefix, "segments must not start with '.'");
  }
}

/** Absolute path of `key` under `root` (an absolute, resolved path). */
export function objectPath(root: string, key: string): string {
  assertKey(key);
  const path = resolve(root, key);
  // Belt and braces: the checks above already rule this out, but a path that resolves
  // outside the root is the one bug here that would expose the host's files.
  if (!path.startsWith(root + sep)) throw new InvalidKeyError(key, "resolves outside the store");
  return path;
}
