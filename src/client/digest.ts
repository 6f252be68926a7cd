/**
 * SHA-256 of an upload, with WebCrypto. WebCrypto has no incremental digest, so the whole
 * input is read into memory once: allowed up to a limit, beyond which the caller must pass
 * the hash it already knows (hashing in pure JS would mean shipping hand-written crypto).
 */
export const MAX_HASHED_BYTES = 256 * 1024 * 1024;

const HEX = /^[0-9a-f]{64}$/;

export async function sha256Hex(blob: Blob): Promise<string> {
  if (blob.size > MAX_HASHED_BYTES) {
    throw new RangeError(`sha256: true hashes inputs up to ${MAX_HASHED_BYTES} bytes; pass the hex digest for larger ones`);
  }
  const digest = await globalThis.crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function checkHex(sha256: string): string {
  const hex = sha256.toLowerCase();
  if (!HEX.test(hex)) throw new TypeError("sha256 must be 64 hex digits");
  return hex;
}

/** `Content-Digest` (RFC 9530) for a hex SHA-256. */
export function contentDigest(hex: string): string {
  let binary = "";
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return `sha-256=:${btoa(binary)}:`;
}
