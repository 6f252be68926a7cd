import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";

import { errnoOf } from "./errno.js";

/**
 * fsync a directory so that a link or rename inside it survives a power loss: fsync on the
 * file makes its bytes durable, but the name pointing at them lives in the directory.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p, then fsync the parent of every directory it created, so the new fan-out
 * directories are as durable as the object about to be linked into them.
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let created = dir; ; created = dirname(created)) {
    await fsyncDir(dirname(created));
    if (created === first) return;
  }
}

/**
 * Run `place` (a link or rename into `dir`) after creating `dir`. A concurrent delete may
 * prune the just-created, still-empty fan-out directories while mkdir is creating them or
 * before `place` runs (ENOENT from either), so a few attempts are made before giving up.
 */
export async function placeInDir<T>(dir: string, place: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdirDurable(dir);
      return await place();
    } catch (e) {
      if (errnoOf(e) !== "ENOENT" || attempt >= 5) throw e;
    }
  }
}
