import sharp from "sharp";

/**
 * Perceptual comparison helpers (STYLE habit 11): decode to 8-bit sRGB, compare raw
 * pixels, never bytes of encoded files.
 */
export interface Raw {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Decodes to opaque sRGB RGB, optionally resized (fill) to a given size first. */
export async function rgb(input: Buffer | string, size?: { width: number; height: number }): Promise<Raw> {
  let image = sharp(input).flatten({ background: "#ffffff" }).toColourspace("srgb");
  if (size) image = image.resize(size.width, size.height, { fit: "fill" });
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export interface Difference {
  /** Peak absolute error, 0..255. */
  pae: number;
  /** Mean absolute error per channel value, 0..255. */
  mad: number;
}

export function difference(a: Raw, b: Raw): Difference {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`sizes differ: ${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels}`);
  }
  let pae = 0;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    sum += d;
    if (d > pae) pae = d;
  }
  return { pae, mad: sum / a.data.length };
}

/** Compares `actual` with `expected`, resizing the reference to the actual size. */
export async function compare(actual: Buffer | string, expected: Buffer | string): Promise<Difference> {
  const a = await rgb(actual);
  return difference(a, await rgb(expected, { width: a.width, height: a.height }));
}

export interface ColourStats {
  /** Mean R, G, B. */
  mean: [number, number, number];
  /** Mean of max(R,G,B) - min(R,G,B): a cheap saturation measure. */
  chroma: number;
}

export function colourStats(raw: Raw): ColourStats {
  const sums = [0, 0, 0];
  let chroma = 0;
  const n = raw.width * raw.height;
  for (let i = 0; i < n; i++) {
    const r = raw.data[i * 3]!, g = raw.data[i * 3 + 1]!, b = raw.data[i * 3 + 2]!;
    sums[0]! += r; sums[1]! += g; sums[2]! += b;
    chroma += Math.max(r, g, b) - Math.min(r, g, b);
  }
  return { mean: sums.map((s) => s / n) as [number, number, number], chroma: chroma / n };
}

/** RGBA of one pixel of an encoded image (alpha 255 when it has none). */
export async function pixelAt(input: Buffer, x: number, y: number): Promise<[number, number, number, number]> {
  const { data, info } = await sharp(input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 4;
  return [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
}
