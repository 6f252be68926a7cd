import { link, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";

import type { StagedObject } from "../../ports/blob-store.js";
import { errnoOf, toStorageError } from "./errno.js";
import { fsyncDir, placeInDir } from "./durable.js";

type Outcome = "created" | "existed";

/** The file a staged object's bytes are in, and how to get rid of it. */
export interface StagedSource {
  readonly path: string;
  /** Removes the file (a missing file is fine); called once, after commit or on discard. */
  remove(): Promise<void>;
}

/**
 * A fsynced file waiting to become an object: a temp file in `.staging` (BlobStore.stage)
 * or an object a client wrote straight to the store (BlobStore.adopt). commit/discard are
 * idempotent so that a caller's cleanup path (`finally { discard() }`) can never delete
 * committed bytes.
 */
export class FsStagedObject implements StagedObject {
  private committed?: { key: string; outcome: Promise<Outcome> };
  private discarded = false;

  constructor(
    private readonly source: StagedSource,
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
    // An adopted object "committed" onto its own key would see itself as the existing
    // object and then delete it as the source.
    if (finalPath === this.source.path) return Promise.reject(new Error(`cannot commit an object onto its own key ${key}`));
    const outcome = this.place(finalPath);
    this.committed = { key, outcome };
    return outcome;
  }

  async read(): Promise<Readable> {
    if (this.committed || this.discarded) throw new Error("staged object was already committed or discarded");
    const handle = await open(this.source.path, "r");
    // The stream closes the handle when it ends or fails.
    return handle.createReadStream();
  }

  async discard(): Promise<void> {
    // After a commit the source is already gone (or being removed by commit itself).
    if (this.committed || this.discarded) return;
    this.discarded = true;
    await this.source.remove();
  }

  private async place(finalPath: string): Promise<Outcome> {
    const dir = dirname(finalPath);
    let outcome: Outcome;
    try {
      // link, not rename: link refuses to replace (EEXIST), so an existing object, whose
      // bytes readers may be streaming, is never touched, even when commits race.
      outcome = await placeInDir(dir, async (): Promise<Outcome> => {
        try {
          await link(this.source.path, finalPath);
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
      // The link's failure is the one worth reporting.
      await this.source.remove().catch(() => undefined);
      throw toStorageError(e);
    }
    // The new name is made durable before the old one goes: a power loss in between
    // leaves two names for the bytes, never none.
    if (outcome === "created") await fsyncDir(dir);
    await this.source.remove();
    return outcome;
  }
}
