import { link, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";

import { StagedOnce, type Outcome } from "../staged-once.js";
import { errnoOf, toStorageError } from "./errno.js";
import { fsyncDir, placeInDir } from "./durable.js";

/** The file a staged object's bytes are in, and how to get rid of it. */
export interface StagedSource {
  readonly path: string;
  /** Removes the file (a missing file is fine); called once, after commit or on discard. */
  remove(): Promise<void>;
}

/**
 * A fsynced file waiting to become an object: a temp file in `.staging` (BlobStore.stage)
 * or an object a client wrote straight to the store (BlobStore.adopt), linked into place.
 */
export class FsStagedObject extends StagedOnce {
  constructor(
    private readonly source: StagedSource,
    readonly size: number,
    private readonly pathOf: (key: string) => string,
  ) {
    super();
  }

  protected get sourceLocation(): string {
    return this.source.path;
  }

  protected locate(key: string): string {
    return this.pathOf(key);
  }

  protected async openSource(): Promise<Readable> {
    const handle = await open(this.source.path, "r");
    // The stream closes the handle when it ends or fails.
    return handle.createReadStream();
  }

  protected removeSource(): Promise<void> {
    return this.source.remove();
  }

  protected async place(finalPath: string): Promise<Outcome> {
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
