import { link, stat } from "node:fs/promises";
import { dirname } from "node:path";

import type { StagedObject } from "../../ports/blob-store.js";
import { errnoOf, toStorageError } from "./errno.js";
import { fsyncDir, placeInDir } from "./durable.js";
import type { StagingArea } from "./staging.js";

type Outcome = "created" | "existed";

/**
 * A fsynced temp file waiting to become an object. commit/discard are idempotent so that
 * a caller's cleanup path (`finally { discard() }`) can never delete committed bytes.
 */
export class FsStagedObject implements StagedObject {
  private committed?: { key: string; outcome: Promise<Outcome> };
  private discarded = false;

  constructor(
    private readonly staging: StagingArea,
    private readonly tempPath: string,
    readonly size: number,
    private readonly pathOf: (key: string) => string,
  ) {}

  commit(key: string): Promise<Outcome> {
    if (this.committed) {
      if (this.committed.key !== key) {
        return Promise.reject(new Error(`staged object already committed to ${this.committed.key}`));
      }
      return this.committed.outcome;
    }
    if (this.discarded) return Promise.reject(new Error("staged object was discarded"));
    let finalPath: string;
    try {
      finalPath = this.pathOf(key);
    } catch (e) {
      // A refused key does not consume the staged bytes: the caller can still discard.
      return Promise.reject(e);
    }
    const outcome = this.place(finalPath);
    this.committed = { key, outcome };
    return outcome;
  }

  async discard(): Promise<void> {
    // After a commit the temp name is already gone (or being removed by commit itself).
    if (this.committed || this.discarded) return;
    this.discarded = true;
    await this.staging.remove(this.tempPath);
  }

  private async place(finalPath: string): Promise<Outcome> {
    const dir = dirname(finalPath);
    let outcome: Outcome;
    try {
      // link, not rename: link refuses to replace (EEXIST), so an existing object, whose
      // bytes readers may be streaming, is never touched, even when commits race.
      outcome = await placeInDir(dir, async (): Promise<Outcome> => {
        try {
          await link(this.tempPath, finalPath);
          return "created";
        } catch (e) {
          if (errnoOf(e) !== "EEXIST") throw e;
          // A directory there means the key is another key's prefix: not an object.
          if (!(await stat(finalPath)).isFile()) throw new Error(`a key prefix, not an object, is at ${finalPath}`);
          return "existed";
        }
      });
    } catch (e) {
      // A failed commit still leaves nothing behind; discard() is a no-op from here on.
      await this.staging.remove(this.tempPath);
      throw toStorageError(e);
    }
    await this.staging.remove(this.tempPath);
    if (outcome === "created") await fsyncDir(dir);
    return outcome;
  }
}
