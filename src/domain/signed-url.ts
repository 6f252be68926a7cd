import { createHmac, timingSafeEqual } from "node:crypto";
import { xmlAttribute } from "./dash.js";

/**
 * Signed delivery URLs (DESIGN §10 "Access"): `sig = base64url(HMAC-SHA256(key, canonical))`
 * where `canonical` is the path, `?`, then every query parameter but `sig` (`exp`, unix
 * seconds, included) sorted by name and joined in `URLSearchParams` encoding. A valid
 * signature grants read access to exactly that URL until `exp`, to anyone.
 *
 * Several keys may verify at once, so a key can be rolled without breaking pages that
 * still carry URLs signed with the previous one: the first key signs, every key verifies.
 */
export interface UrlSigningKeys {
  readonly keys: readonly string[];
}

/** The longest lifetime a signed URL may ask for: one week. */
export const MAX_SIGNED_URL_SECONDS = 604_800;
export const DEFAULT_SIGNED_URL_SECONDS = 3600;

export type SignatureCheck =
  | { readonly kind: "unsigned" }
  | { readonly kind: "valid"; readonly expiresAt: number }
  | { readonly kind: "invalid"; readonly reason: string }
  | { readonly kind: "expired"; readonly expiredAt: number };

/** The string the signature covers: the path and the sorted query without `sig`. */
export function canonicalRequest(path: string, query: URLSearchParams): string {
  const sorted = new URLSearchParams();
  for (const [name, value] of query) if (name !== "sig") sorted.append(name, value);
  sorted.sort();
  return `${path}?${sorted.toString()}`;
}

function hmac(key: string, canonical: string): Buffer {
  return createHmac("sha256", key).update(canonical).digest();
}

/**
 * `path?query&exp=..&sig=..` for `path` with the given query (a transform, or nothing),
 * valid until `expiresAt` (unix seconds).
 */
export function signUrl(path: string, query: URLSearchParams | string, expiresAt: number, signing: UrlSigningKeys): string {
  const key = signing.keys[0];
  if (!key) throw new Error("no URL signing key is configured");
  const params = new URLSearchParams(query);
  params.delete("sig");
  params.set("exp", String(Math.floor(expiresAt)));
  params.sort();
  const sig = hmac(key, canonicalRequest(path, params)).toString("base64url");
  params.append("sig", sig);
  return `${path}?${params.toString()}`;
}

/**
 * Checks a request's signature before anything else is looked up. `unsigned`: the URL
 * carries neither `sig` nor `exp` (other rules decide). A URL with only one of them, a
 * malformed `exp`, or a signature no key made is `invalid`; a good one past `exp` is
 * `expired` (checked after the signature, so an attacker cannot learn expiry of forgeries).
 */
export function checkSignature(path: string, query: URLSearchParams, signing: UrlSigningKeys, nowSeconds: number): SignatureCheck {
  const sigs = query.getAll("sig");
  const exps = query.getAll("exp");
  if (sigs.length === 0 && exps.length === 0) return { kind: "unsigned" };
  if (sigs.length !== 1) return { kind: "invalid", reason: sigs.length === 0 ? "the URL has exp but no sig" : "the URL has more than one sig" };
  if (exps.length !== 1 || !/^\d{1,12}$/.test(exps[0]!)) return { kind: "invalid", reason: "the URL needs exactly one exp (unix seconds)" };
  const given = Buffer.from(sigs[0]!, "base64url");
  if (given.length !== 32 || given.toString("base64url") !== sigs[0]) return { kind: "invalid", reason: "the signature is malformed" };
  const canonical = canonicalRequest(path, query);
  const matches = signing.keys.some((key) => timingSafeEqual(hmac(key, canonical), given));
  if (!matches) return { kind: "invalid", reason: "the signature does not match this URL" };
  const expiresAt = Number(exps[0]);
  if (expiresAt <= nowSeconds) return { kind: "expired", expiredAt: expiresAt };
  return { kind: "valid", expiresAt };
}

/** Clamps a requested lifetime to (0, one week]; absent → one hour. */
export function signedUrlLifetime(requested: number | undefined): number {
  if (requested === undefined) return DEFAULT_SIGNED_URL_SECONDS;
  return Math.min(MAX_SIGNED_URL_SECONDS, Math.max(1, Math.floor(requested)));
}

/**
 * The keys of `ASSETD_URL_SIGNING_KEY` (the first signs); none configured, one is derived
 * from the JWT secret so a fresh install signs out of the box.
 */
export function urlSigningKeys(configured: readonly string[], jwtSecret: string): UrlSigningKeys {
  if (configured.length > 0) return { keys: [...configured] };
  return { keys: [createHmac("sha256", jwtSecret).update("assetd URL signing key").digest("base64url")] };
}

/**
 * Signs a URI found in a document served at `documentPath`: a relative one is resolved
 * against that document's directory and becomes a signed absolute path; absolute URLs and
 * absolute paths are returned unchanged.
 */
function relativeSigner(documentPath: string, expiresAt: number, signing: UrlSigningKeys): (uri: string) => string {
  const directory = documentPath.slice(0, documentPath.lastIndexOf("/") + 1);
  return (uri) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith("/")) return uri;
    const [path = "", query = ""] = uri.split("?");
    return signUrl(new URL(path, `http://x${directory}`).pathname, query, expiresAt, signing);
  };
}

/**
 * A playlist served through a signed URL, with every URI in it (rendition playlists,
 * segments, `URI="..."` attributes) replaced by a signed absolute path expiring with it,
 * so a private video plays from one signed master URL. Absolute URLs are left alone.
 */
export function signPlaylist(text: string, playlistPath: string, expiresAt: number, signing: UrlSigningKeys): string {
  const sign = relativeSigner(playlistPath, expiresAt, signing);
  return text
    .split("\n")
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === "") return line;
      if (trimmed.startsWith("#")) return line.replace(/URI="([^"]*)"/g, (_, uri: string) => `URI="${sign(uri)}"`);
      return sign(trimmed);
    })
    .join("\n");
}

const xmlUnescape = (value: string) => value.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/**
 * A DASH manifest served through a signed URL: every segment reference (`sourceURL` and
 * `media` attributes) becomes a signed absolute path expiring with it, resolved against the
 * manifest's own path, as {@link signPlaylist} does for HLS.
 */
export function signDashManifest(text: string, manifestPath: string, expiresAt: number, signing: UrlSigningKeys): string {
  const sign = relativeSigner(manifestPath, expiresAt, signing);
  return text.replace(/\b(sourceURL|media)="([^"]*)"/g, (whole, name: string, escaped: string) => {
    const uri = xmlUnescape(escaped);
    const signed = sign(uri);
    return signed === uri ? whole : `${name}="${xmlAttribute(signed)}"`;
  });
}
