import { resampleArea } from "./resample.js";

/** Side of the square the hash is computed on, and of the low-frequency block it keeps. */
const SIDE = 32;
const KEEP = 8;

/** COSINES[u][x]: orthonormal DCT-II basis over SIDE samples, only the KEEP lowest frequencies. */
const COSINES: Float64Array[] = Array.from({ length: KEEP }, (_, u) => {
  const scale = Math.sqrt((u === 0 ? 1 : 2) / SIDE);
  return Float64Array.from({ length: SIDE }, (_, x) => scale * Math.cos(((2 * x + 1) * u * Math.PI) / (2 * SIDE)));
});

/**
 * DCT perceptual hash (the pHash scheme, as in Python's ImageHash `phash`): the grey image
 * squashed to 32x32, its 8x8 lowest spatial frequencies, one bit per coefficient: above
 * their median or not. Low frequencies survive resizing, re-encoding and mild colour
 * changes, so copies land a few bits apart while unrelated images differ in about half.
 * Bits run row by row (vertical frequency, then horizontal), the first one the most
 * significant; returned as 16 hex digits.
 *
 * `grey` holds width*height luma values (any scale; the hash is scale-invariant).
 */
export function perceptualHash(grey: ArrayLike<number>, width: number, height: number): string {
  const square = resampleArea(grey, width, height, 1, SIDE, SIDE);
  const coefficients = lowFrequencies(square);
  const sorted = [...coefficients].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  // A flat image has only rounding noise above the DC term: the margin makes its hash
  // (and that of any copy) the same, all zeros but the DC bit.
  const margin = 1e-9 * Math.max(1, Math.abs(sorted[63]!));
  let bits = 0n;
  for (const value of coefficients) bits = (bits << 1n) | (value > median + margin ? 1n : 0n);
  return bits.toString(16).padStart(16, "0");
}

/** The KEEP x KEEP lowest-frequency coefficients of a SIDE x SIDE block, row-major by (v, u). */
function lowFrequencies(square: Float64Array): Float64Array {
  // Separable: first along x for each row, then along y.
  const rows = new Float64Array(SIDE * KEEP);
  for (let y = 0; y < SIDE; y++) {
    for (let u = 0; u < KEEP; u++) {
      const basis = COSINES[u]!;
      let sum = 0;
      for (let x = 0; x < SIDE; x++) sum += basis[x]! * square[y * SIDE + x]!;
      rows[y * KEEP + u] = sum;
    }
  }
  const out = new Float64Array(KEEP * KEEP);
  for (let v = 0; v < KEEP; v++) {
    const basis = COSINES[v]!;
    for (let u = 0; u < KEEP; u++) {
      let sum = 0;
      for (let y = 0; y < SIDE; y++) sum += basis[y]! * rows[y * KEEP + u]!;
      out[v * KEEP + u] = sum;
    }
  }
  return out;
}
