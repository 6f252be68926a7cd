import type { Readable } from "node:stream";
import type { StagedObject, UploadedPart } from "./blob-store.js";
import type { UploadSession } from "./repos.js";

/** How long a URL handed out now stays valid. */
export interface UrlValidity {
  /** This service's public origin, for URLs that point back at it. */
  baseUrl: string;
  /** Epoch seconds; never after the session ends. */
  expiresAt: number;
  /** Seconds from now until `expiresAt`, at least 1. */
  ttlSeconds: number;
}

/**
 * What completion hashes: bytes the store already holds as one object, taken out of the
 * client's reach (`staged`), or a stream of the parts in order, to stage while hashing it.
 */
export type AssembledUpload = { staged: StagedObject } | { body: Readable };

/** Something under the upload area a session may have left behind. */
export interface UploadLeftover {
  /** The session's asset, when the key names one. */
  assetId: string | undefined;
  kind: "object" | "multipart";
  remove(): Promise<void>;
}

/** Where a PUT to one of this service's upload URLs goes, once its token checks out. */
export interface AcceptedPut {
  key: string;
  /** The most bytes the PUT may carry. */
  maxBytes: number;
}

/**
 * How the bytes of a direct upload (`POST /v1/uploads`) travel to the store: presigned
 * URLs straight to S3 (storage/s3/upload-transport.ts) or this service's own signed URLs
 * on the filesystem store (storage/fs/upload-transport.ts). The composition root picks one
 * with the store; the upload use cases never ask which.
 *
 * Everything a session writes lives under `uploads/<asset id>/` in the store.
 */
export interface UploadTransport {
  /**
   * Prepares the store for a new session; returns the store's multipart upload id when it
   * keeps one, else null. `clear` undoes it.
   */
  begin(session: Pick<UploadSession, "kind" | "stagingKey" | "contentType">): Promise<string | null>;
  /** A URL to PUT `target` ("data" for a single PUT, else a 1-based part number) to. */
  url(session: UploadSession, target: "data" | number, validity: UrlValidity): Promise<string>;
  /**
   * Checks a PUT to this service's own URL against its token and the session; throws
   * `url_expired`, `signature_invalid` or `invalid_parameter`, and `not_found` when this
   * transport hands out no such URLs.
   */
  accept(session: UploadSession, put: { target: "data" | number; token: string; contentType: string | undefined }, nowSeconds: number): AcceptedPut;
  /** What the store holds of a session so far. */
  received(session: UploadSession): Promise<UploadedPart[]>;
  /**
   * The session's bytes, whole: parts checked against the plan (`upload_incomplete` when
   * one is missing or has the wrong size) and, where the client names them, against
   * `claimed`; joined by the store where it can.
   */
  assemble(session: UploadSession, claimed?: ReadonlyArray<{ partNumber: number; etag: string }>): Promise<AssembledUpload>;
  /** Removes whatever the session staged (objects, an unfinished multipart upload); idempotent. */
  clear(session: Pick<UploadSession, "assetId" | "stagingKey" | "multipartId">): Promise<void>;
  /** Objects and multipart uploads under the upload area of assets created before `before` (epoch ms). */
  leftovers(before: number): AsyncIterable<UploadLeftover>;
}
