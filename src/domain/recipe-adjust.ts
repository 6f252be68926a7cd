import { InvalidParameterError } from "./errors.js";
import { int, num, type Raw } from "./recipe-values.js";

/** The recipe fields parsed here (recipe.ts's Recipe holds them; not imported, to keep the import graph acyclic). */
export interface Adjustments {
  crop?: string;
  trim?: number;
  max_bytes?: number;
  brightness?: number;
  contrast?: number;
  saturation?: number;
}

/** The largest crop offset or side accepted at the edge; whether it fits the image is checked at render. */
export const MAX_CROP = 1_000_000;

export interface CropBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** `max_bytes`: 1 KiB .. 50 MiB. */
export const MAX_BYTES_RANGE = { min: 1024, max: 50 * 1024 * 1024 } as const;

/** `brightness`, `contrast`, `saturation`: multipliers, 1 leaves the image unchanged. */
export const TONE_RANGE = { min: 0, max: 3 } as const;
export const TONES = ["brightness", "contrast", "saturation"] as const;

/**
 * Parameters applied around the resize: `crop` (before it, in source pixels), the tone
 * multipliers (after it). Each is parsed to its canonical value, defaults dropped (a tone
 * of 1 is no parameter), so equal outputs share a cache key.
 */
export function parseAdjustments(raw: Raw, r: Adjustments): void {
  if (raw.crop !== undefined) r.crop = parseCrop(raw.crop);
  if (raw.trim !== undefined) {
    const threshold = parseTrim(raw.trim);
    if (threshold !== undefined) {
      if (r.crop !== undefined) throw new InvalidParameterError("trim", "trim cannot be combined with crop (crop counts the source's pixels)");
      r.trim = threshold;
    }
  }
  if (raw.max_bytes !== undefined) {
    r.max_bytes = int(raw, "max_bytes", MAX_BYTES_RANGE.min, MAX_BYTES_RANGE.max);
    if (raw.strip !== undefined && raw.strip !== "1" && raw.strip !== "true" && raw.strip !== "") {
      throw new InvalidParameterError("max_bytes", "max_bytes cannot be combined with strip=0 (the search re-encodes pixels only)");
    }
  }
  for (const key of TONES) {
    if (raw[key] === undefined) continue;
    const value = num(raw, key, TONE_RANGE.min, TONE_RANGE.max);
    if (value !== 1) r[key] = value;
  }
}

/** The threshold `trim=1` (or a bare `trim`) means: sharp's default difference from the corner's colour. */
export const DEFAULT_TRIM = 10;

/**
 * `trim=1`/`true` (threshold 10), `trim=2..255` (the threshold), `trim=0`/`false` (off):
 * the threshold is recorded, so `trim=1` and `trim=10` are one recipe.
 */
export function parseTrim(text: string): number | undefined {
  if (text === "0" || text === "false") return undefined;
  if (text === "" || text === "1" || text === "true") return DEFAULT_TRIM;
  if (/^\d{1,3}$/.test(text)) {
    const value = Number(text);
    if (value >= 2 && value <= 255) return value;
  }
  throw new InvalidParameterError("trim", "trim must be 1 (default threshold 10), 0, or a threshold from 2 to 255");
}

/** `x,y,w,h`: integers, offsets >= 0, sides >= 1; canonical text without spaces or leading zeros. */
export function parseCrop(text: string): string {
  const parts = text.split(",");
  const message = "crop must be x,y,w,h in source pixels: integers, x and y >= 0, w and h >= 1";
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,7}$/.test(p.trim()))) throw new InvalidParameterError("crop", message);
  const [x, y, w, h] = parts.map((p) => Number(p.trim())) as [number, number, number, number];
  if (w < 1 || h < 1) throw new InvalidParameterError("crop", message);
  if (Math.max(x, y, w, h) > MAX_CROP) throw new InvalidParameterError("crop", `crop values must be at most ${MAX_CROP}`);
  return `${x},${y},${w},${h}`;
}

/** The canonical `crop` text back as numbers. */
export function cropBox(crop: string): CropBox {
  const [x, y, w, h] = crop.split(",").map(Number) as [number, number, number, number];
  return { x, y, w, h };
}
