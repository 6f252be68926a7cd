/**
 * Signing delivery URLs where the key lives: a backend that holds
 * `ASSETD_URL_SIGNING_KEY` can make `<img src>` URLs for private assets without asking the
 * server (as imgproxy's SDKs do). The algorithm is DESIGN §10's: HMAC-SHA256 over the path,
 * `?`, and every query parameter but `sig` sorted by name. WebCrypto only, so it runs in
 * Node 20+ and in workers; never ship the key to a browser.
 */

export interface SignOptions {
  /** One signing key (the first of the server's list). */
  key: string;
  /** Seconds from now until the URL stops working (default 3600, at most one week). */
  expiresIn?: number;
  /** Or an exact expiry. */
  expiresAt?: Date;
}

const MAX_SECONDS = 604_800;

function base64url(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The URL (absolute or a path) with `exp` and `sig` added: read access to exactly that URL,
 * for anyone, until it expires.
 */
export async function signUrl(url: string, options: SignOptions): Promise<string> {
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url);
  const parsed = new URL(url, "http://assetd.invalid");
  const seconds = options.expiresAt
    ? Math.floor(options.expiresAt.getTime() / 1000)
    : Math.floor(Date.now() / 1000) + Math.min(MAX_SECONDS, Math.max(1, Math.floor(options.expiresIn ?? 3600)));
  const params = new URLSearchParams(parsed.search);
  params.delete("sig");
  params.set("exp", String(seconds));
  params.sort();
  const canonical = `${parsed.pathname}?${params.toString()}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(options.key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  params.append("sig", base64url(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(canonical))));
  const signed = `${parsed.pathname}?${params.toString()}`;
  return absolute ? `${parsed.origin}${signed}` : signed;
}
