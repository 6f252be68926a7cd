import { opendir, stat } from "node:fs/promises";
import { join } from "node:path";

import type { StoredObject } from "../../ports/blob-store.js";
import { assertPrefix } from "./keys.js";
import { isMissing } from "./errno.js";

/**
 * Every regular file under `root` whose key starts with `prefix`. The walk starts at the
 * deepest directory the prefix names and only descends into directories that can still
 * match, so listing one fan-out bucket does not scan the whole store. Dot-entries are
 * skipped: `.staging` holds uncommitted bytes and no valid key has a dot-segment.
 */
export async function* listObjects(root: string, prefix: string): AsyncGenerator<StoredObject> {
  assertPrefix(prefix);
  const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
  yield* walk(root, base, prefix);
}

async function* walk(root: string, dirKey: string, prefix: string): AsyncGenerator<StoredObject> {
  let dir;
  try {
    // opendir streams entries, so a huge directory is never held in memory at once.
    dir = await opendir(join(root, dirKey));
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  for await (const entry of dir) {
    if (entry.name.startsWith(".")) continue;
    const key = dirKey + entry.name;
    if (entry.isDirectory()) {
      const childDir = `${key}/`;
      if (childDir.startsWith(prefix) || prefix.startsWith(childDir)) yield* walk(root, childDir, prefix);
    } else if (entry.isFile() && key.startsWith(prefix)) {
      try {
        const info = await stat(join(root, key));
        yield { key, size: info.size, modifiedAt: info.mtimeMs };
      } catch (e) {
        // Deleted between readdir and stat: it is simply no longer listed.
        if (!isMissing(e)) throw e;
      }
    }
  }
}
