import type { Readable } from "node:stream";

import { StagedOnce, type Outcome } from "../staged-once.js";

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
 * Either way the source is deleted afterwards.
 */
export class S3StagedObject extends StagedOnce {
  constructor(
    private readonly host: StagingHost,
    /** Full key of the source (store prefix included). */
    private readonly sourceKey: string,
    readonly size: number,
    /** The source's ETag when `size` was measured, for a source others can still write to. */
    private readonly etag?: string,
  ) {
    super();
  }

  protected get sourceLocation(): string {
    return this.sourceKey;
  }

  protected locate(key: string): string {
    return this.host.objectKey(key);
  }

  protected openSource(): Promise<Readable> {
    return this.host.readSource(this.sourceKey, this.etag);
  }

  protected removeSource(): Promise<void> {
    return this.host.removeSource(this.sourceKey);
  }

  protected async place(objectKey: string): Promise<Outcome> {
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
