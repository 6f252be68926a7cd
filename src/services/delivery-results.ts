import type { Readable } from "node:stream";
import type { AssetRow } from "../ports/repos.js";
import type { ByteRange } from "../ports/blob-store.js";
import type { HintName } from "../domain/client-hints.js";

/** What the delivery service (services/deliver.ts) answers. */

/** A miss under ASSETD_ASYNC_VARIANTS: queued; the client asks again after `retryAfter` seconds. */
export interface PendingVariant {
  kind: "pending";
  asset: AssetRow;
  cacheKey: string;
  retryAfter: number;
  /** The Client Hints the recipe depended on (for `Vary`). */
  hints?: HintName[];
}

export interface OriginalResult {
  asset: AssetRow;
  /** Unquoted: the blob's sha256 for the owner and admins; another tag when location was removed. */
  etag: string;
  size: number;
  contentType: string;
  open(range?: ByteRange): Promise<Readable | Buffer> | Buffer;
  /**
   * With ASSETD_DELIVERY_REDIRECT=store, for bytes served as stored: a presigned URL at
   * which the store itself answers with these headers (access was checked here first).
   */
  link?(disposition?: string): Promise<string>;
}

export interface VariantResult {
  kind?: undefined;
  asset: AssetRow;
  cacheKey: string;
  contentType: string;
  size: number;
  /** The bytes, or a range of them: from memory for small variants, streamed from the store for large ones. */
  open(range?: ByteRange): Promise<Readable | Buffer> | Buffer;
  /** The output format depended on the Accept header. */
  negotiated: boolean;
  /** The Client Hints the recipe depended on (for `Vary`). */
  hints?: HintName[];
  cache: "HIT" | "MISS";
  /** Milliseconds spent rendering (0 on a hit). */
  renderMs: number;
  /** `max_bytes`: the quality chosen, on the responses of the render that chose it. */
  quality?: number;
}

/** How a delivery request was authorised beyond its caller: a valid signed URL for it. */
export interface Access {
  signed?: boolean;
  /** Who pays for renders (a principal, or an IP when anonymous); undefined: nobody, as for jobs. */
  client?: string;
}
