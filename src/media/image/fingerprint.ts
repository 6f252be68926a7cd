import { encode } from "blurhash";
import { dominantColour } from "./dominant-colour.js";
import { perceptualHash } from "./phash.js";
import { resampleArea } from "./resample.js";

/** A small decoded image: sRGB, 8-bit, 4 channels (RGBA, not premultiplied), row-major. */
export interface RgbaThumbnail {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Facts derived from the pixels for the manifest (DESIGN §3), all from one thumbnail. */
export interface Fingerprints {
  /** Placeholder for galleries: 4x3 components. */
  blurhash: string;
  /** `#rrggbb`; absent when no pixel is at least half opaque. */
  dominantColor?: string;
  /** 64-bit DCT perceptual hash, 16 hex digits (domain/phash.ts). */
  phash: string;
}

const BLURHASH_COMPONENTS = { x: 4, y: 3 } as const;
/** blurhash's cost grows with the pixel count; its output cannot show more detail than this. */
const BLURHASH_MAX_SIDE = 32;

export function fingerprint(thumb: RgbaThumbnail): Fingerprints {
  const flat = flattenOnWhite(thumb);
  const dominantColor = dominantColour(thumb.data);
  return {
    blurhash: blurhash(flat, thumb.width, thumb.height),
    ...(dominantColor ? { dominantColor } : {}),
    phash: perceptualHash(luma(flat), thumb.width, thumb.height),
  };
}

/**
 * Transparent pixels carry arbitrary colour (often black): placeholders and hashes see the
 * image over white, as a JPEG derivative shows it, so a logo's copies hash alike.
 */
function flattenOnWhite(thumb: RgbaThumbnail): Uint8ClampedArray {
  const out = new Uint8ClampedArray(thumb.width * thumb.height * 4);
  const { data } = thumb;
  for (let i = 0; i < out.length; i += 4) {
    const alpha = data[i + 3]! / 255;
    for (let c = 0; c < 3; c++) out[i + c] = data[i + c]! * alpha + 255 * (1 - alpha);
    out[i + 3] = 255;
  }
  return out;
}

function blurhash(flat: Uint8ClampedArray, width: number, height: number): string {
  const scale = Math.min(1, BLURHASH_MAX_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const pixels = w === width && h === height ? flat : Uint8ClampedArray.from(resampleArea(flat, width, height, 4, w, h));
  return encode(pixels, w, h, BLURHASH_COMPONENTS.x, BLURHASH_COMPONENTS.y);
}

/** Rec. 601 luma of the (gamma-encoded) sRGB values, as JPEG's own Y channel. */
function luma(flat: Uint8ClampedArray): Float64Array {
  const out = new Float64Array(flat.length / 4);
  for (let p = 0, i = 0; p < out.length; p++, i += 4) out[p] = 0.299 * flat[i]! + 0.587 * flat[i + 1]! + 0.114 * flat[i + 2]!;
  return out;
}
