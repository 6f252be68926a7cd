/**
 * Where content lives in a blob store. Keys are derived from hashes here and nowhere else,
 * so the database holds hashes, never paths, and any store can serve any key.
 */
const HEX64 = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: string): boolean {
  return HEX64.test(value);
}

function fanOut(prefix: string, hex: string): string {
  if (!isSha256Hex(hex)) throw new Error(`not a sha256 hex digest: ${hex}`);
  return `${prefix}/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}`;
}

/** `raw/ab/cd/<sha256>`: an original's bytes. */
export const rawKey = (sha256: string): string => fanOut("raw", sha256);

/** `variants/ab/cd/<cacheKey>`: a derived output. */
export const variantKey = (cacheKey: string): string => fanOut("variants", cacheKey);
