/**
 * The 64-bit perceptual hash of an image (DESIGN §3 `meta.phash`): 16 lower-case hex
 * digits in the manifest, a signed 64-bit integer in the database (both SQL dialects have
 * a signed 64-bit integer type and no unsigned one). Near-duplicates are hashes a small
 * Hamming distance apart.
 */

export const PHASH_BITS = 64;

const PHASH_HEX = /^[0-9a-f]{16}$/;

export function isPhash(value: unknown): value is string {
  return typeof value === "string" && PHASH_HEX.test(value);
}

/** The hash as stored: the same 64 bits read as a two's-complement integer. */
export function phashToInt64(hex: string): bigint {
  if (!isPhash(hex)) throw new RangeError(`not a 64-bit perceptual hash: ${JSON.stringify(hex)}`);
  return BigInt.asIntN(64, BigInt(`0x${hex}`));
}

export function int64ToPhash(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16).padStart(16, "0");
}

/** Set bits in the low 64 bits of `value` (negative values count in two's complement). */
export function popcount64(value: bigint): number {
  const bits = BigInt.asUintN(64, value);
  return popcount32(Number(bits >> 32n)) + popcount32(Number(bits & 0xffff_ffffn));
}

export function phashDistance(a: string, b: string): number {
  return popcount64(phashToInt64(a) ^ phashToInt64(b));
}

function popcount32(n: number): number {
  let x = n - ((n >>> 1) & 0x5555_5555);
  x = (x & 0x3333_3333) + ((x >>> 2) & 0x3333_3333);
  x = (x + (x >>> 4)) & 0x0f0f_0f0f;
  return Math.imul(x, 0x0101_0101) >>> 24;
}
