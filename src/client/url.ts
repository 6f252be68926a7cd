/**
 * Delivery URLs. The query is written in the server's canonical order with its defaults
 * dropped and values normalised (`src/domain/recipe.ts`), so two transforms that mean the
 * same output give byte-identical URLs, one CDN cache entry. Out-of-range values throw
 * here rather than come back as a 400 on first load.
 */

export const FITS = ["cover", "contain", "fill", "inside", "outside"] as const;
export type Fit = (typeof FITS)[number];

export const POSITIONS = ["center", "north", "northeast", "east", "southeast", "south", "southwest", "west",
  "northwest", "entropy", "attention"] as const;
export type Position = (typeof POSITIONS)[number];

export type Format = "auto" | "jpeg" | "jpg" | "png" | "webp" | "avif" | "gif";

export interface Transform {
  /** A named recipe (`thumb`, `small`, `medium`, `large`); other fields override it. */
  preset?: "thumb" | "small" | "medium" | "large" | (string & {});
  /** `auto`: the browser's `Sec-CH-Width` hint decides (servers with ASSETD_CLIENT_HINTS); otherwise no width. */
  w?: number | "auto";
  h?: number;
  /** Applies when both `w` and `h` are given; default `cover`. */
  fit?: Fit;
  /** Anchor for `cover`/`contain` crops and padding. */
  pos?: Position;
  /** Multiplies `w` and `h` (1..4). */
  dpr?: number;
  enlarge?: boolean;
  rotate?: 0 | 90 | 180 | 270;
  flip?: boolean;
  flop?: boolean;
  blur?: number;
  /** `true` for the default amount, or sigma 0.5..10. */
  sharpen?: boolean | number;
  /** Hex colour for padding and flattening alpha: `fff`, `#ff000080`. */
  bg?: string;
  /** `auto` negotiates AVIF/WebP from the browser's Accept header. */
  fmt?: Format;
  q?: number;
  /** A byte budget 1024..52428800: the highest quality up to `q` that fits, else a smaller size. Not with `strip: false`. */
  maxBytes?: number;
  /** `false` keeps EXIF and ICC profiles; the default strips them. */
  strip?: boolean;
  /** PDF page, from 1. */
  page?: number;
  /** Video poster time in seconds. */
  t?: number;
  /** A rectangle of the (upright) source in pixels, kept before the resize; it must lie inside the image. */
  crop?: { x: number; y: number; w: number; h: number };
  /** Remove a uniform border: `true` (threshold 10) or a threshold 2..255. Not with `crop`. */
  trim?: boolean | number;
  /** Multipliers 0..3; 1 (unchanged) is left out of the URL. */
  brightness?: number;
  contrast?: number;
  saturation?: number;
}

export interface UrlOptions {
  /** `Content-Disposition: attachment`. */
  download?: boolean;
}

const MAX_DIMENSION = 8192;
const MAX_CROP = 1_000_000;

/** `w=300&fmt=webp`: the canonical query for a transform ("" when it has none). */
export function transformQuery(transform: Transform = {}): string {
  const t = transform;
  const pairs: Array<[string, string]> = [];
  const add = (key: string, value: string | number | undefined) => {
    if (value !== undefined) pairs.push([key, String(value)]);
  };
  // With a preset the server merges the preset's fields before applying defaults, which
  // the client cannot see: send what was given, normalised, and let the server fold dpr.
  const preset = t.preset !== undefined;
  const dpr = t.dpr === undefined ? 1 : decimal(t.dpr, "dpr", 1, 4);
  const scale = (v: number) => (preset ? v : Math.min(MAX_DIMENSION, Math.round(v * dpr)));
  const w = t.w === undefined ? undefined : t.w === "auto" ? "auto" : scale(integer(t.w, "w", 1, MAX_DIMENSION));
  const h = t.h === undefined ? undefined : scale(integer(t.h, "h", 1, MAX_DIMENSION));
  if (t.fit !== undefined && !FITS.includes(t.fit)) throw new RangeError(`fit must be one of ${FITS.join(", ")}`);
  if (t.pos !== undefined && !POSITIONS.includes(t.pos)) throw new RangeError(`pos must be one of ${POSITIONS.join(", ")}`);
  const bothSides = preset || (w !== undefined && h !== undefined);
  const fit = bothSides && t.fit !== undefined && (preset || t.fit !== "cover") ? t.fit : undefined;
  const effectiveFit = t.fit ?? "cover";
  const pos = bothSides && t.pos !== undefined && (preset || (t.pos !== "center" && (effectiveFit === "cover" || effectiveFit === "contain")))
    ? t.pos : undefined;
  if (pos !== undefined && effectiveFit === "contain" && (pos === "entropy" || pos === "attention")) {
    throw new RangeError("pos entropy and attention apply to fit=cover only");
  }

  add("preset", t.preset);
  add("page", t.page === undefined ? undefined : integer(t.page, "page", 1, 100_000));
  add("t", t.t === undefined ? undefined : decimal(t.t, "t", 0, 86_400));
  if (t.crop !== undefined) {
    const c = t.crop;
    add("crop", [integer(c.x, "crop.x", 0, MAX_CROP), integer(c.y, "crop.y", 0, MAX_CROP),
      integer(c.w, "crop.w", 1, MAX_CROP), integer(c.h, "crop.h", 1, MAX_CROP)].join(","));
  }
  if (t.trim !== undefined && t.trim !== false && t.trim !== 0) {
    if (t.crop !== undefined) throw new RangeError("trim cannot be combined with crop");
    add("trim", t.trim === true || t.trim === 1 ? 10 : integer(t.trim, "trim", 2, 255));
  }
  add("w", w);
  add("h", h);
  if (preset && dpr !== 1) add("dpr", dpr);
  add("fit", fit);
  add("pos", pos);
  if (t.enlarge) add("enlarge", 1);
  if (t.rotate !== undefined && t.rotate !== 0) {
    if (![90, 180, 270].includes(t.rotate)) throw new RangeError("rotate must be 0, 90, 180 or 270");
    add("rotate", t.rotate);
  }
  if (t.flip) add("flip", 1);
  if (t.flop) add("flop", 1);
  add("blur", t.blur === undefined ? undefined : decimal(t.blur, "blur", 0.3, 100));
  if (t.sharpen === true) add("sharpen", 1);
  else if (typeof t.sharpen === "number" && t.sharpen !== 0) add("sharpen", decimal(t.sharpen, "sharpen", 0.5, 10));
  for (const key of ["brightness", "contrast", "saturation"] as const) {
    const value = t[key] === undefined ? undefined : decimal(t[key], key, 0, 3);
    if (value !== 1) add(key, value);
  }
  add("bg", t.bg === undefined ? undefined : colour(t.bg));
  add("fmt", t.fmt === "jpg" ? "jpeg" : t.fmt);
  add("q", t.q === undefined ? undefined : integer(t.q, "q", 1, 100));
  if (t.maxBytes !== undefined) {
    if (t.strip === false) throw new RangeError("maxBytes cannot be combined with strip: false");
    add("max_bytes", integer(t.maxBytes, "maxBytes", 1024, 50 * 1024 * 1024));
  }
  if (t.strip === false) add("strip", 0);
  // Commas are legal in a query and keep `crop=x,y,w,h` readable (and as the server writes it).
  return new URLSearchParams(pairs).toString().replace(/%2C/g, ",");
}

/** `${baseUrl}/a/:id?<canonical transform>`. */
export function assetUrl(baseUrl: string, id: string, transform?: Transform, options: UrlOptions = {}): string {
  const query = transformQuery(transform);
  const params = options.download ? (query ? `${query}&download=1` : "download=1") : query;
  return `${baseUrl.replace(/\/+$/, "")}/a/${encodeURIComponent(id)}${params ? `?${params}` : ""}`;
}

/** The HLS master playlist of a video. */
export function hlsUrl(baseUrl: string, id: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/a/${encodeURIComponent(id)}/hls/master.m3u8`;
}

/** The MPEG-DASH manifest of a video: the same fMP4 ladder as its HLS master. */
export function dashUrl(baseUrl: string, id: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/a/${encodeURIComponent(id)}/dash/manifest.mpd`;
}

/** Storyboard parameters: all optional (the server picks 10..100 frames by duration, 160-px tiles, a near-square grid). */
export interface Storyboard {
  /** Frames, 1..100. */
  n?: number;
  /** Tile width in pixels, 16..640 (never wider than the video). */
  w?: number;
  /** Tiles per row, 1..100. */
  cols?: number;
}

/**
 * A video's storyboard: `kind: "vtt"` for the WebVTT cues (`storyboard.jpg#xywh=…`, what
 * players' thumbnail tracks read), `"jpg"` for the sprite they point into.
 */
export function storyboardUrl(baseUrl: string, id: string, kind: "jpg" | "vtt" = "vtt", storyboard: Storyboard = {}): string {
  const pairs: Array<[string, string]> = [];
  if (storyboard.n !== undefined) pairs.push(["n", String(integer(storyboard.n, "n", 1, 100))]);
  if (storyboard.w !== undefined) pairs.push(["w", String(integer(storyboard.w, "w", 16, 640))]);
  if (storyboard.cols !== undefined) pairs.push(["cols", String(integer(storyboard.cols, "cols", 1, 100))]);
  const query = new URLSearchParams(pairs).toString();
  return `${baseUrl.replace(/\/+$/, "")}/a/${encodeURIComponent(id)}/storyboard.${kind}${query ? `?${query}` : ""}`;
}

function integer(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/** Three decimals, as the server rounds them. */
function decimal(value: number, name: string, min: number, max: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a number from ${min} to ${max}`);
  const rounded = Math.round(value * 1000) / 1000;
  if (rounded < min || rounded > max) throw new RangeError(`${name} must be a number from ${min} to ${max}`);
  return rounded;
}

function colour(text: string): string {
  const hex = text.replace(/^#/, "").toLowerCase();
  if (/^[0-9a-f]{3,4}$/.test(hex)) return [...hex].map((c) => c + c).join("");
  if (/^[0-9a-f]{6}([0-9a-f]{2})?$/.test(hex)) return hex;
  throw new RangeError("bg must be a hex colour such as ffffff or ff000080");
}
