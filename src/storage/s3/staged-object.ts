import type { Readable } from "node:stream";

import type { StagedObject } from "../../ports/blob-store.js";

type Outcome = "created" | "existed";

/** What a staged object needs from its store. */
export interface StagingHost {
  /** The full object key for `key`; throws InvalidKeyError for a refused key. */
  objectKey(key: string): string;
  /**
   * Copies the source object to `objectKey` unless an object is already there; with
   * `etag`, only if the source still has that ETag (state_conflict otherwise).
   */
  place(sourceKey: string, objectKey: string, size: number, etag?: string): Promise<Outcome>;
  /**
   * Deletes the source object. For a `.staging/` upload this is best effort (the sweep
   * removes leftovers); for an adopted object nothing sweeps its key, so a failure throws.
   */
  removeSource(sourceKey: string): Promise<void>;
  /** The source's bytes; with `etag`, only while the source still has it (state_conflict otherwise). */
  readSource(sourceKey: string, etag?: string): Promise<Readable>;
}

/**
 * An object waiting to be copied to its content key: an upload under `<prefix>/.staging/`
 * (BlobStore.stage) or an object a client wrote straight to the store (BlobStore.adopt).
 * Either way the source is deleted afterwards. commit/discard are idempotent so that a
 * caller's cleanup path (`finally { discard() }`) can never delete committed bytes.
 */
export class S3StagedObject implements StagedObject {
  private committed?: { key: string; outcome: Promise<Outcome> };
  private discarded = false;

  constructor(
    private readonly host: StagingHost,
    /** Full key of the source (store prefix included). */
    private readonly sourceKey: string,
    readonly size: number,
    /** The source's ETag when `size` was measured, for a source others can still write to. */
    private readonly etag?: string,
  ) {}

  commit(key: string): Promise<Outcome> {
    if (this.committed) {
      if (this.committed.key !== key) {
        return Promise.reject(new Error(`staged object already committed to ${this.committed.key}`));
      }
      return this.committed.outcome;
    }
    if (this.discarded) return Promise.reject(new Error("staged object was discarded"));
    let objectKey: string;
    try {
      objectKey = this.host.objectKey(key);
    } catch (e) {
      // A refused key does not consume the staged bytes: the caller can still discard.
      return Promise.reject(e);
    }
    // An adopted object "committed" onto its own key would see itself as the existing
    // object and then delete it as the source.
    if (objectKey === this.sourceKey) return Promise.reject(new Error(`cannot commit an object onto its own key ${key}`));
    const outcome = this.place(objectKey);
    this.committed = { key, outcome };
    return outcome;
  }

  async read(): Promise<Readable> {
    if (this.committed || this.discarded) throw new Error("staged object was already committed or discarded");
    return this.host.readSource(this.sourceKey, this.etag);
  }

  async discard(): Promise<void> {
    // After a commit the source is already gone (or being removed by commit itself).
    if (this.committed || this.discarded) return;
    this.discarded = true;
    await this.host.removeSource(this.sourceKey);
  }

  private async place(objectKey: string): Promise<Outcome> {
    let outcome: Outcome;
    try {
      outcome = await this.host.place(this.sourceKey, objectKey, this.size, this.etag);
    } catch (e) {
      // A failed commit leaves nothing behind either, and discard() is a no-op from here
      // on; the copy's failure is the one worth reporting.
      await this.host.removeSource(this.sourceKey).catch(() => undefined);
      throw e;
    }
    await this.host.removeSource(this.sourceKey);
    return outcome;
  }
}
