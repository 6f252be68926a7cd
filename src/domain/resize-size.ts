import type { Fit } from "./recipe.js";

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface ResizeRequest {
  readonly w?: number;
  readonly h?: number;
  /** Only meaningful with both sides; defaults to cover. */
  readonly fit?: Fit;
  readonly enlarge?: boolean;
}

/**
 * The size sharp's resize will produce from a source of `src` (already oriented), mirroring
 * sharp's ResolveShrink and crop/embed rules, so limits are checked before any decoding.
 * JPEG shrink-on-load can move the result by a pixel; limits do not care about one pixel.
 */
export function resizedSize(src: Size, r: ResizeRequest): Size {
  const { w, h } = r;
  if (w === undefined && h === undefined) return src;
  const noEnlarge = !r.enlarge;
  const clamp = (shrink: number) => (noEnlarge ? Math.max(1, shrink) : shrink);

  if (w !== undefined && h !== undefined) {
    const fit = r.fit ?? "cover";
    let hs = src.width / w;
    let vs = src.height / h;
    if (fit === "cover" || fit === "outside") hs = vs = Math.min(hs, vs);
    else if (fit === "contain" || fit === "inside") hs = vs = Math.max(hs, vs);
    const scaled = { width: scale(src.width, clamp(hs)), height: scale(src.height, clamp(vs)) };
    // cover crops to the box (never beyond the scaled image); contain pads out to it.
    if (fit === "cover") return { width: Math.min(scaled.width, w), height: Math.min(scaled.height, h) };
    if (fit === "contain") return { width: Math.max(scaled.width, w), height: Math.max(scaled.height, h) };
    return scaled;
  }
  // One side: the other follows the aspect ratio.
  const shrink = clamp(w !== undefined ? src.width / w : src.height / h!);
  return { width: scale(src.width, shrink), height: scale(src.height, shrink) };
}

function scale(side: number, shrink: number): number {
  return Math.max(1, Math.round(side / Math.min(shrink, side)));
}
