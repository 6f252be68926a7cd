/**
 * The JSON shapes of the assetd HTTP API (DESIGN §5), as a client sees them. Kept apart
 * from the server's own types on purpose: this module ships to browsers and must not pull
 * in anything from the server side.
 */

export type AssetStatus = "pending" | "uploaded" | "verified" | "ready" | "failed" | "quarantined" | "deleted";
export type AssetKind = "image" | "video" | "audio" | "document" | "other";

export interface Failure {
  code: string;
  message: string;
}

export interface AssetUrls {
  original: string;
  /** Preset variants, present when the server can render stills of the content. */
  thumb?: string;
  small?: string;
  medium?: string;
  large?: string;
  /** HLS master playlist, for videos. */
  hls?: string;
  /** MPEG-DASH manifest of the same ladder, for videos. */
  dash?: string;
  [name: string]: string | undefined;
}

export interface Manifest {
  id: string;
  status: AssetStatus;
  /** Shown to the owner and admins only. */
  owner?: string;
  filename: string;
  /** The sniffed type; null until the bytes have been checked. */
  contentType: string | null;
  declaredType: string | null;
  kind: AssetKind;
  size: number | null;
  sha256: string | null;
  public: boolean;
  tags: Record<string, string>;
  /** Extracted facts (width, height, format, exif, duration...); open-ended. */
  meta: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  /** Only admins see deleted assets. */
  deletedAt?: string;
  urls: AssetUrls;
  failure?: Failure;
  /** Ready videos, single-asset reads only. */
  streaming?: { hls: "none" | "transcoding" | "ready" | "failed" };
}

export interface ListQuery {
  status?: AssetStatus;
  type?: AssetKind;
  /** `{k: v}` or `["k:v", ...]`; every pair must match. */
  tags?: Record<string, string> | readonly string[];
  owner?: string;
  /** Filename contains. */
  q?: string;
  createdAfter?: Date | string | number;
  createdBefore?: Date | string | number;
  /** 1..1000, default 100. */
  limit?: number;
  cursor?: string;
}

export interface Quota {
  owner: string;
  /** The limit in force; null: no limit. */
  maxBytes: number | null;
  /** Where the limit comes from: set for this owner, the service default, or none at all. */
  source: "owner" | "default" | "unlimited";
  usedBytes: number;
  /** Held by upload sessions that have not completed yet. */
  reservedBytes: number;
  /** null when unlimited. */
  availableBytes: number | null;
}

export interface QuotaList {
  items: Quota[];
  /** `ASSETD_QUOTA_DEFAULT_BYTES`; null: owners without their own limit are unlimited. */
  defaultMaxBytes: number | null;
}

export interface AssetPage {
  items: Manifest[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next: string | null;
  quota?: Quota;
}

export interface AssetPatch {
  filename?: string;
  public?: boolean;
  /** `null` removes a tag. */
  tags?: Record<string, string | null>;
}

export interface AssetEvent {
  from: AssetStatus | null;
  to: AssetStatus;
  reason: string;
  at: string;
}

export interface SimilarQuery {
  /** Hamming distance over the 64-bit perceptual hash. */
  maxDistance?: number;
  limit?: number;
}

export interface SimilarResult {
  items: Array<{ distance: number; asset: Manifest }>;
  /** Why nothing could be compared (the asset is not ready, or has no perceptual hash). */
  reason?: { code: "not_ready" | "no_phash"; message: string };
}

/** An ACL grant: `principal` is a user id, `group:<name>` or `*` (anyone). */
export interface Grant {
  principal: string;
  permission: "read" | "write" | "delete";
}

/** `POST /v1/imports`: the server fetches `url` (http or https) through its fetch guard. */
export interface ImportRequest {
  url: string;
  /** Default: the last segment of the URL's path. */
  filename?: string;
  tags?: Record<string, string>;
  public?: boolean;
}

export interface SignedUrlRequest {
  /** A transform query such as `w=300&fmt=webp`; none: the original. */
  query?: string;
  /** Seconds (default 3600, at most 604800). */
  expiresIn?: number;
  /** Sign the video's HLS master playlist instead (its playlists and segments are signed as served). */
  hls?: boolean;
  /** Sign the video's DASH manifest instead (its segment URLs are signed as served). */
  dash?: boolean;
}

export interface SignedUrl {
  url: string;
  expiresAt: string;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  dead: number;
}

export interface Stats {
  /** "service" for an admin, "owner" for everyone else. */
  scope: "service" | "owner";
  assets: { byStatus: Partial<Record<AssetStatus, number>>; byType: Partial<Record<AssetKind, number>> };
  logicalBytes: number;
  physicalBytes: number;
  dedupSavedBytes: number;
  /**
   * Admins only: variants are shared across owners of the same content. `served` counts
   * variant requests answered (hits and misses), `rendered` the renders they needed.
   */
  variants?: { count: number; bytes: number; served: number; rendered: number };
  /** Admins only: lookups by every client of every process, restarts included. */
  cache?: { hits: number; misses: number; hitRatio: number; renders: number };
  /** Admins only: completed uploads, those whose content was stored already, and their bytes. */
  uploads?: { total: number; deduplicated: number; bytes: number; deduplicatedBytes: number };
  /** Admins only: what garbage collection removed, over all its passes. */
  gc?: { bytesCollected: number; objectsRemoved: number };
  /** Admins only: stored originals by tier. */
  storage?: { byTier: Record<"hot" | "cold", { blobs: number; bytes: number }> };
  queues: Record<string, QueueDepth>;
  quota?: Quota;
}

export interface Capabilities {
  maxUploadBytes: number;
  uploads: {
    /** "store": upload URLs point straight at object storage; "service": at assetd itself. */
    direct: "store" | "service";
    multipartThreshold: number;
    partSize: number;
    urlTtlSeconds: number;
    sessionTtlSeconds: number;
  };
  tus: { endpoint: string; version: string; maxSize: number };
  allowedTypes: string[];
}

export interface NewUpload {
  filename: string;
  contentType: string;
  size: number;
  /** Hex; lets the server skip the transfer when the caller already holds these bytes. */
  sha256?: string;
  tags?: Record<string, string>;
  public?: boolean;
  /** Upload in parts even when the server's threshold would take one PUT. */
  multipart?: boolean;
}

export interface SinglePlan {
  kind: "single";
  method: "PUT";
  url: string;
  /** Send exactly these (they are part of the URL's signature). */
  headers: Record<string, string>;
  expiresAt: string;
}

export interface MultipartPlan {
  kind: "multipart";
  uploadId: string;
  partSize: number;
  parts: Array<{ partNumber: number; url: string }>;
  expiresAt: string;
}

export type UploadPlan = SinglePlan | MultipartPlan;

export interface UploadSession {
  asset: Manifest;
  /** null: nothing to send (the owner already holds these bytes); the asset is verified. */
  upload: UploadPlan | null;
}

export interface PendingUpload {
  asset: Manifest;
  /** With fresh URLs; null for a tus upload (resume it through tus). */
  upload: UploadPlan | null;
  /** What the store holds so far. `etag` is "" where the store has none to show. */
  received: Array<{ partNumber: number; size: number; etag: string }>;
  /** When the session itself expires and is swept. */
  expiresAt: string;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export type JobState = "waiting" | "active" | "done" | "dead";

export interface Job {
  id: string;
  name: string;
  key: string | null;
  payload: unknown;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  runAt: string;
  createdAt: string;
  updatedAt: string;
}

export interface SweepReport {
  /** Expired upload sessions closed. */
  sessions: number;
  /** Store multipart uploads with no session, aborted. */
  multipart: number;
  /** Staged objects with no session (a PUT after the session ended), removed. */
  objects: number;
}
