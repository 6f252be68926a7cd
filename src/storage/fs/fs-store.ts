import { constants } from "node:fs";
import { access, mkdir, open, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";

import { BlobNotFoundError, type BlobStore, type ByteRange, type StoreCapabilities } from "../../ports/blob-store.js";
import { silentLogger, type Logger } from "../../ports/logger.js";
import { fsyncDir, placeInDir } from "./durable.js";
import { isMissing, toStorageError } from "./errno.js";
import { objectPath } from "./keys.js";
import { listObjects } from "./list.js";
import { FsStagedObject } from "./staged-object.js";
import { StagingArea } from "./staging.js";

export interface FsStoreOptions {
  logger?: Logger;
}

/** Temp files idle this long belong to a process that died (see StagingArea.sweep). */
const STALE_STAGING_MS = 60 * 60 * 1000;

const CAPABILITIES: StoreCapabilities = Object.freeze({ presign: false, multipart: false, storageClasses: false });

/**
 * The embedded BlobStore: objects are files at `<root>/<key>`, uploads are staged in
 * `<root>/.staging` and linked into place. Creates `root` if needed.
 */
export async function createFsStore(root: string, options: FsStoreOptions = {}): Promise<BlobStore> {
  const logger = options.logger ?? silentLogger;
  const base = resolve(root);
  await mkdir(base, { recursive: true });
  const staging = await StagingArea.create(join(base, ".staging"), logger);
  await staging.sweep(STALE_STAGING_MS);
  const pathOf = (key: string): string => objectPath(base, key);

  /** Opens the object for reading; a missing object rejects here, not later on a stream. */
  async function openObject(key: string) {
    const path = pathOf(key);
    try {
      const handle = await open(path, "r");
      // open(2) succeeds on a directory; a fan-out directory is a key prefix, not an object.
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw new BlobNotFoundError(key);
      }
      return handle;
    } catch (e) {
      if (isMissing(e)) throw new BlobNotFoundError(key);
      throw e;
    }
  }

  /** Removes now-empty fan-out directories up to (not including) the root; best effort. */
  async function pruneEmptyDirs(path: string): Promise<void> {
    for (let dir = dirname(path); dir.startsWith(base + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir); // fails with ENOTEMPTY as soon as a sibling remains
      } catch {
        return;
      }
    }
  }

  /** Unlinks the object file, then its now-empty fan-out directories; a missing file is fine. */
  async function removeObject(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    await pruneEmptyDirs(path);
  }

  return {
    capabilities: CAPABILITIES,

    async stage(body: Readable, signal?: AbortSignal) {
      const { path, size } = await staging.write(body, signal);
      return new FsStagedObject({ path, remove: () => staging.remove(path) }, size, pathOf);
    },

    async put(key: string, bytes: Uint8Array) {
      const finalPath = pathOf(key);
      const temp = await staging.writeBytes(bytes);
      try {
        // rename replaces atomically: a reader sees the old or the new bytes, never a mix.
        await placeInDir(dirname(finalPath), () => rename(temp, finalPath));
      } catch (e) {
        await staging.remove(temp);
        throw toStorageError(e);
      }
      await fsyncDir(dirname(finalPath));
    },

    async get(key: string, range?: ByteRange) {
      if (range) checkRange(range);
      const handle = await openObject(key);
      // Reading through the open handle: a concurrent delete cannot fail the stream later.
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async read(key: string) {
      try {
        return await readFile(pathOf(key));
      } catch (e) {
        if (isMissing(e)) throw new BlobNotFoundError(key);
        throw e;
      }
    },

    async head(key: string) {
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? { key, size: info.size } : undefined;
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },

    async delete(key: string) {
      await removeObject(pathOf(key));
    },

    async adopt(key: string) {
      const path = pathOf(key);
      let size: number;
      try {
        const info = await stat(path);
        if (!info.isFile()) throw new BlobNotFoundError(key);
        size = info.size;
      } catch (e) {
        if (isMissing(e)) throw new BlobNotFoundError(key);
        throw e;
      }
      // Unlike a staging temp file nothing sweeps an object's key, so a failed removal
      // throws rather than leaving the source quietly behind.
      return new FsStagedObject({ path, remove: () => removeObject(path) }, size, pathOf);
    },

    list(prefix: string) {
      return listObjects(base, prefix);
    },

    localPath(key: string) {
      return pathOf(key);
    },

    sweepStaging: (maxAgeMs, options) => staging.sweep(maxAgeMs, Date.now(), options?.dryRun ?? false),

    async ping() {
      await access(staging.dir, constants.W_OK);
      await access(base, constants.W_OK);
    },

    async close() {
      // Nothing is held open between calls.
    },
  };
}

function checkRange({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}
