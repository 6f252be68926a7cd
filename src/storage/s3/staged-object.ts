import type { StagedObject } from "../../ports/blob-store.js";

type Outcome = "created" | "existed";

/** What a staged object needs from its store. */
export interface StagingHost {
  /** The full object key for `key`; throws InvalidKeyError for a refused key. */
  objectKey(key: string): string;
  /** Copies the staged object to `objectKey` unless an object is already there. */
  place(stagingKey: string, objectKey: string, size: number): Promise<Outcome>;
  /** Deletes the staged object; best effort (a leftover is swept later). */
  removeStaging(stagingKey: string): Promise<void>;
}

/**
 * An uploaded object under `<prefix>/.staging/`, waiting to be copied to its content key.
 * commit/discard are idempotent so that a caller's cleanup path (`finally { discard() }`)
 * can never delete committed bytes.
 */
export class S3StagedObject implements StagedObject {
  private committed?: { key: string; outcome: Promise<Outcome> };
  private discarded = false;

  constructor(
    private readonly host: StagingHost,
    private readonly stagingKey: string,
    readonly size: number,
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
    const outcome = this.place(objectKey);
    this.committed = { key, outcome };
    return outcome;
  }

  async discard(): Promise<void> {
    // After a commit the staging object is already gone (or being removed by commit itself).
    if (this.committed || this.discarded) return;
    this.discarded = true;
    await this.host.removeStaging(this.stagingKey);
  }

  private async place(objectKey: string): Promise<Outcome> {
    try {
      return await this.host.place(this.stagingKey, objectKey, this.size);
    } finally {
      // Whether the copy worked or not, the staged bytes are done with: a failed commit
      // leaves nothing behind either, and discard() is a no-op from here on.
      await this.host.removeStaging(this.stagingKey);
    }
  }
}
