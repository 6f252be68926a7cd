import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How a direct-to-storage upload is cut up, and the signed tokens that let a client PUT
 * bytes to the service without a bearer token (the filesystem store's stand-in for S3
 * presigned URLs). Pure: no I/O, no clock (callers pass `now`).
 */

const MIB = 1024 * 1024;
/** S3 allows 10,000 parts; Swift's s3api 1,000. Plans stay within the smaller. */
export const MAX_PARTS = 1000;
/** S3's minimum for every part but the last. */
export const MIN_PART_SIZE = 5 * MIB;

export type UploadPlan =
  | { kind: "single" }
  | { kind: "multipart"; partSize: number; partCount: number };

export function planUpload(size: number, options: { multipartThreshold: number; partSize: number }): UploadPlan {
  if (size <= options.multipartThreshold) return { kind: "single" };
  const needed = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  const partSize = Math.max(options.partSize, MIN_PART_SIZE, needed);
  return { kind: "multipart", partSize, partCount: Math.ceil(size / partSize) };
}

/** Bytes part `partNumber` (1-based) must hold for an upload of `size` bytes. */
export function expectedPartSize(partNumber: number, partSize: number, size: number): number {
  const start = (partNumber - 1) * partSize;
  return Math.max(0, Math.min(partSize, size - start));
}

/**
 * Why the received parts cannot form the object, or undefined when they can: parts 1..N
 * all present, each exactly its planned size.
 */
export function partsProblem(parts: ReadonlyArray<{ partNumber: number; size: number }>, partSize: number, size: number): string | undefined {
  const count = Math.ceil(size / partSize);
  const byNumber = new Map(parts.map((p) => [p.partNumber, p.size]));
  for (let n = 1; n <= count; n++) {
    const got = byNumber.get(n);
    if (got === undefined) return `part ${n} of ${count} has not been uploaded`;
    const want = expectedPartSize(n, partSize, size);
    if (got !== want) return `part ${n} holds ${got} bytes, expected ${want}`;
  }
  const extra = parts.find((p) => p.partNumber < 1 || p.partNumber > count);
  if (extra) return `part ${extra.partNumber} is outside the plan of ${count} parts`;
  return undefined;
}

/** Every direct upload stages its bytes under this store prefix, one folder per asset. */
export const UPLOAD_AREA = "uploads/";
export const uploadPrefix = (assetId: string): string => `${UPLOAD_AREA}${assetId.toLowerCase()}/`;
/** The object a single PUT writes (and a store-side multipart upload completes into). */
export const uploadDataKey = (assetId: string): string => `${uploadPrefix(assetId)}data`;
/** One part written through this service's URLs. */
export const uploadPartKey = (assetId: string, partNumber: number): string =>
  `${uploadPrefix(assetId)}part-${String(partNumber).padStart(5, "0")}`;
/** The part number a key under an upload folder names, if it names one. */
export const partNumberOf = (key: string): number | undefined => {
  const match = /\/part-(\d{5})$/.exec(key);
  return match ? Number(match[1]) : undefined;
};
/** The asset whose upload folder holds `key` (upper case, as ids are), if any; not checked to be an id. */
export const uploadOwnerOf = (key: string): string | undefined => /^uploads\/([0-9a-z]{26})\//.exec(key)?.[1]?.toUpperCase();

/** What an upload URL lets its holder do: PUT `target` ("data" or a part number) of one upload. */
export interface UploadGrant {
  assetId: string;
  target: "data" | number;
  /** The Content-Type the PUT must carry; bound into the signature like S3's signed headers. */
  contentType: string;
  /** Epoch seconds. */
  expiresAt: number;
}

function mac(secret: string, grant: UploadGrant): Buffer {
  return createHmac("sha256", secret)
    .update(`assetd-upload-v1\n${grant.assetId}\n${grant.target}\n${grant.contentType}\n${grant.expiresAt}`)
    .digest();
}

/** `<expiresAt>.<base64url mac>`; the other grant fields come from the URL and request. */
export function signUploadGrant(secret: string, grant: UploadGrant): string {
  return `${grant.expiresAt}.${mac(secret, grant).toString("base64url")}`;
}

export type GrantCheck = { ok: true } | { ok: false; reason: "malformed" | "signature" | "expired" };

/**
 * Checks the signature before the expiry, so an expired forgery reads as a forgery.
 * `nowSeconds` may have a fraction: the grant works until the start of its `expiresAt` second.
 */
export function verifyUploadGrant(secret: string, token: string, grant: Omit<UploadGrant, "expiresAt">, nowSeconds: number): GrantCheck {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { ok: false, reason: "malformed" };
  const expiresAt = Number(match[1]);
  const given = Buffer.from(match[2]!, "base64url");
  const wanted = mac(secret, { ...grant, expiresAt });
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: "signature" };
  if (nowSeconds >= expiresAt) return { ok: false, reason: "expired" };
  return { ok: true };
}
