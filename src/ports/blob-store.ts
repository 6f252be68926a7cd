import type { Readable } from "node:stream";
import type { ByteRange } from "../domain/byte-range.js";

export type { ByteRange };

export interface StoredObject {
  key: string;
  size: number;
  /** When the object was last written (epoch ms), where the backend says; listings only. */
  modifiedAt?: number;
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
  /**
   * The staged bytes from the start (to hash or sniff them before commit); only before
   * commit or discard. For an adopted object these are the bytes `commit` will place.
   */
  read(): Promise<Readable>;
}

/**
 * What a backend can do beyond the basics, as clients and the contract suite see it. How
 * uploads reach a backend is not asked here: the upload transport (ports/upload-transport.ts)
 * is built with the store.
 */
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
   * directly. Only stores that keep objects on a local disk implement it; undefined when
   * this object is not on the local disk right now (read it through `read` or `get`).
   */
  localPath?(key: string): string | undefined;
  /**
   * Turns the committed object at `key` (bytes a client wrote straight to the store) into
   * a staged object: `commit(target)` moves it to `target` (dropping it when `target`
   * already exists) and `discard()` deletes it. Either way no object is left at `key`.
   * Throws BlobNotFoundError when there is no object at `key`.
   */
  adopt(key: string): Promise<StagedObject>;
  /**
   * Removes staging leftovers (bytes of uploads a crashed process never committed) older
   * than `maxAgeMs`; with `dryRun` only counts them. Returns how many.
   */
  sweepStaging?(maxAgeMs: number, options?: { dryRun?: boolean }): Promise<number>;
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

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface PendingMultipart {
  key: string;
  uploadId: string;
  initiatedAt: number;
}

/**
 * Clients send bytes straight to the store with presigned URLs (S3 SigV4): what the S3
 * store offers beyond the port, and what its upload transport is built on. Every URL is
 * bound to one key, one method and, for a single PUT, one Content-Type that the store
 * checks; it stops working after `expiresInSeconds`. Keys are store keys (the store adds
 * its own prefix).
 */
export interface DirectUploads {
  /** A PUT URL for the whole object; the request must carry exactly `contentType` and `size` bytes. */
  presignPut(key: string, contentType: string, size: number, expiresInSeconds: number): Promise<string>;
  /** Starts a multipart upload whose object will carry `contentType`; returns its id. */
  createMultipart(key: string, contentType: string): Promise<string>;
  /** A PUT URL for one part (1-based `partNumber`) of exactly `size` bytes. */
  presignPart(key: string, uploadId: string, partNumber: number, size: number, expiresInSeconds: number): Promise<string>;
  /** The parts the store holds so far, in part-number order. */
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  /**
   * Joins the parts into the object at `key`. Throws AppError `invalid_parameter` when a
   * part is missing, too small, or its ETag does not match, and `not_found` when the
   * upload is unknown (aborted, or already completed).
   */
  completeMultipart(key: string, uploadId: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>): Promise<void>;
  /** Idempotent: aborting an unknown or finished upload succeeds. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** Unfinished multipart uploads whose key starts with `prefix`. */
  listMultipart(prefix: string): AsyncIterable<PendingMultipart>;
}
