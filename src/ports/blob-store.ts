import type { Readable } from "node:stream";

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  key: string;
  size: number;
}

/**
 * Bytes streamed into the store but not yet visible under any key. Exactly one of
 * `commit` or `discard` is called; either way no staging leftovers remain afterwards.
 */
export interface StagedObject {
  /** Bytes written to staging. */
  readonly size: number;
  /**
   * Make the staged bytes visible at `key`. Keys are content addresses, so when an object
   * already exists there it is kept and the staged copy dropped ("existed").
   */
  commit(key: string): Promise<"created" | "existed">;
  discard(): Promise<void>;
}

/** What a backend can do beyond the basics, so callers branch on features, not on backends. */
export interface StoreCapabilities {
  presign: boolean;
  multipart: boolean;
  storageClasses: boolean;
}

/**
 * A flat key space of immutable objects. Implementations: storage/fs (default), storage/s3.
 * Every implementation must pass test/contract/blob-store.contract.ts.
 */
export interface BlobStore {
  readonly capabilities: StoreCapabilities;
  /** Streams `body` to staging. If the stream fails or `signal` aborts, nothing is left behind. */
  stage(body: Readable, signal?: AbortSignal): Promise<StagedObject>;
  /** Atomically writes a small object (a rendered variant); replaces any object at `key`. */
  put(key: string, body: Uint8Array): Promise<void>;
  /** Throws BlobNotFoundError when there is no object at `key`. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Small objects in one read (variants on the hot path). Throws BlobNotFoundError. */
  read(key: string): Promise<Buffer>;
  head(key: string): Promise<StoredObject | undefined>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  /** Every committed object whose key starts with `prefix` (no staging objects), any order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /**
   * A path on the local filesystem holding the object, for engines that read files
   * directly. Only stores that keep objects on a local disk implement it.
   */
  localPath?(key: string): string;
  /** Readiness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`no object at ${key}`);
    this.name = "BlobNotFoundError";
    this.key = key;
  }
}
