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

/**
 * The raw key of one incarnation of some content: the first is `raw/ab/cd/<sha256>`, later
 * ones (the content uploaded again after gc collected it) `raw/ab/cd/<sha256>.<n>`. A gc
 * that deletes late therefore only ever removes the incarnation it claimed.
 */
export function rawKeyOf(sha256: string, generation: number): string {
  if (!Number.isSafeInteger(generation) || generation < 1) throw new Error(`not a blob generation: ${generation}`);
  return generation === 1 ? rawKey(sha256) : `${rawKey(sha256)}.${generation}`;
}

const RAW_KEY = /^raw\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})(?:\.([1-9][0-9]{0,9}))?$/;

/** The content and incarnation a raw key names; undefined for anything else. */
export function parseRawKey(key: string): { sha256: string; generation: number } | undefined {
  const m = RAW_KEY.exec(key);
  if (!m || m[1] !== m[3]!.slice(0, 2) || m[2] !== m[3]!.slice(2, 4)) return undefined;
  return { sha256: m[3]!, generation: m[4] ? Number(m[4]) : 1 };
}

const FANNED = /^(variants|hls)\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})(?:\/|$)/;

/** The hash a `variants/…` key or an `hls/…` ladder key is filed under; undefined otherwise. */
export function parseDerivedKey(key: string): { area: "variants" | "hls"; hex: string } | undefined {
  const m = FANNED.exec(key);
  if (!m || m[2] !== m[4]!.slice(0, 2) || m[3] !== m[4]!.slice(2, 4)) return undefined;
  return { area: m[1] as "variants" | "hls", hex: m[4]! };
}

/** `hls/ab/cd/<hex>/`: every ladder version filed under one derived content key. */
export const hlsRoot = (hex: string): string => `${fanOut("hls", hex)}/`;
