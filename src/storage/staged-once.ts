import type { Readable } from "node:stream";

import type { StagedObject } from "../ports/blob-store.js";

export type Outcome = "created" | "existed";

/**
 * The life of a staged object, shared by every store: it is committed to one key or
 * discarded, once. commit/discard are idempotent so that a caller's cleanup path
 * (`finally { discard() }`) can never delete committed bytes, and the bytes can be read
 * only while still staged. Stores supply where the source is and how to place it.
 */
export abstract class StagedOnce implements StagedObject {
  private committed?: { key: string; outcome: Promise<Outcome> };
  private discarded = false;

  abstract readonly size: number;
  /** The source's own location (a path, a full key), to refuse committing onto itself. */
  protected abstract readonly sourceLocation: string;
  /** Where `key` lives in this store; throws for a refused key. */
  protected abstract locate(key: string): string;
  /** Moves the source to `location`; on failure leaves no source behind. */
  protected abstract place(location: string): Promise<Outcome>;
  protected abstract openSource(): Promise<Readable>;
  protected abstract removeSource(): Promise<void>;

  commit(key: string): Promise<Outcome> {
    if (this.committed) {
      if (this.committed.key !== key) {
        return Promise.reject(new Error(`staged object already committed to ${this.committed.key}`));
      }
      return this.committed.outcome;
    }
    if (this.discarded) return Promise.reject(new Error("staged object was discarded"));
    let location: string;
    try {
      location = this.locate(key);
    } catch (e) {
      // A refused key does not consume the staged bytes: the caller can still discard.
      return Promise.reject(e);
    }
    // An adopted object "committed" onto its own key would see itself as the existing
    // object and then delete it as the source.
    if (location === this.sourceLocation) return Promise.reject(new Error(`cannot commit an object onto its own key ${key}`));
    const outcome = this.place(location);
    this.committed = { key, outcome };
    return outcome;
  }

  async read(): Promise<Readable> {
    if (this.committed || this.discarded) throw new Error("staged object was already committed or discarded");
    return this.openSource();
  }

  async discard(): Promise<void> {
    // After a commit the source is already gone (or being removed by commit itself).
    if (this.committed || this.discarded) return;
    this.discarded = true;
    await this.removeSource();
  }
}
