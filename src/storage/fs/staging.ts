import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import type { Logger } from "../../ports/logger.js";
import { toStorageError } from "./errno.js";

/**
 * Uncommitted bytes live in `<root>/.staging`, on the same filesystem as the objects, so
 * that link/rename into place is atomic and never copies.
 */
export class StagingArea {
  constructor(
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async create(dir: string, logger: Logger): Promise<StagingArea> {
    await mkdir(dir, { recursive: true });
    return new StagingArea(dir, logger);
  }

  /** A fresh name; random so concurrent uploads (and processes) never share a file. */
  tempPath(): string {
    return join(this.dir, `${randomUUID()}.part`);
  }

  /**
   * Streams `body` into a new temp file and fsyncs it. On any failure (the body errors,
   * `signal` aborts, the disk fills) the file is closed and removed before rethrowing,
   * so a failed upload leaves nothing behind.
   */
  async write(body: Readable, signal?: AbortSignal): Promise<{ path: string; size: number }> {
    const path = this.tempPath();
    // Created here, before any streaming, so that the cleanup below always sees the file:
    // a write stream opening lazily could create it after an early abort had cleaned up.
    const handle = await open(path, "wx").catch((e: unknown) => {
      throw toStorageError(e);
    });
    try {
      // flush: the stream fsyncs before it closes the handle, and pipeline waits for that
      // close, so once this resolves the bytes are durable (DESIGN §1.4: uploads return
      // when bytes are durable). An fsync failure rejects here like a write failure.
      const out = handle.createWriteStream({ flush: true });
      await pipeline(body, out, signal ? { signal } : {});
      return { path, size: out.bytesWritten };
    } catch (e) {
      // pipeline rejects without waiting for the stream to close; FileHandle.close waits
      // for in-flight writes, so the unlink below cannot race one.
      await handle.close().catch(() => undefined);
      await this.remove(path);
      throw toStorageError(e);
    }
  }

  /** Writes small `bytes` to a new, fsynced temp file (for atomic replace by rename). */
  async writeBytes(bytes: Uint8Array): Promise<string> {
    const path = this.tempPath();
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return path;
    } catch (e) {
      await this.remove(path);
      throw toStorageError(e);
    }
  }

  /** Best effort: a leftover is swept at the next start, so a failure here only logs. */
  async remove(path: string): Promise<void> {
    try {
      await rm(path, { force: true });
    } catch (e) {
      this.logger.warn({ err: e, path }, "could not remove staging file");
    }
  }

  /**
   * Removes temp files untouched for `maxAgeMs`. A process killed mid-upload (crash,
   * SIGKILL, power loss) never reaches its cleanup, so its temp files would stay forever.
   * Younger files are kept: another process sharing this store may still be writing them,
   * and an active upload refreshes its file's mtime with every write.
   */
  async sweep(maxAgeMs: number, now: number = Date.now(), dryRun = false): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      try {
        const info = await stat(path);
        if (info.isFile() && now - info.mtimeMs > maxAgeMs) {
          if (!dryRun) await rm(path, { force: true });
          removed++;
        }
      } catch (e) {
        this.logger.warn({ err: e, path }, "could not sweep staging file");
      }
    }
    if (removed > 0 && !dryRun) this.logger.info({ removed, dir: this.dir }, "removed stale staging files");
    return removed;
  }
}
