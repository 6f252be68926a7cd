import { createHash } from "node:crypto";
import { InvalidParameterError } from "./errors.js";
import type { WebImageFormat } from "./media-types.js";
import { applyHints, type ClientHints, type HintName } from "./client-hints.js";
import { cropBox, parseAdjustments } from "./recipe-adjust.js";
import { flag, int, num, oneOf, type Raw } from "./recipe-values.js";

/**
 * A variant is defined by a canonical recipe: the plain list of what to do to the source,
 * with defaults dropped, numbers normalised and keys in a fixed order. Two URLs that mean
 * the same output produce the same recipe, hence the same cache key and one stored copy.
 */

export const FITS = ["cover", "contain", "fill", "inside", "outside"] as const;
export type Fit = (typeof FITS)[number];

/** Gravity in compass form (what sharp calls `gravity`) or a smart-crop strategy. */
export const POSITIONS = ["center", "north", "northeast", "east", "southeast", "south", "southwest", "west",
  "northwest", "entropy", "attention"] as const;
export type Position = (typeof POSITIONS)[number];

/**
 * The output format after negotiation. `jpeg-or-png` is `fmt=auto` for a client that takes
 * neither AVIF nor WebP: PNG when the source has alpha, else JPEG. It is decided by the
 * engine from the source, so the cache key does not depend on probing the source first.
 */
export type OutputFormat = WebImageFormat | "jpeg-or-png";

export interface Recipe {
  w?: number;
  h?: number;
  fit?: Fit;
  pos?: Position;
  enlarge?: true;
  rotate?: 90 | 180 | 270;
  flip?: true;
  flop?: true;
  blur?: number;
  sharpen?: number;
  bg?: string;
  /** Absent: keep the source format when browsers show it, else JPEG (PNG with alpha). */
  fmt?: OutputFormat;
  q?: number;
  /** `false` keeps EXIF/ICC; absent means the default: strip, orient, convert to sRGB. */
  strip?: false;
  page?: number;
  t?: number;
  /** `x,y,w,h` in source pixels (after EXIF orientation), applied before the resize. */
  crop?: string;
  /** Multipliers 0..3 (1, the identity, is never stored): luminance, contrast around mid-grey, chroma. */
  /**
   * A byte budget (1 KiB..50 MiB): the highest quality up to `q` (or the format's default)
   * whose output fits, found by a binary search; a smaller size when even the lowest does not.
   */
  max_bytes?: number;
  /** Removes a uniform border: the colour difference threshold (1..255; `trim=1` is 10). */
  trim?: number;
  brightness?: number;
  contrast?: number;
  saturation?: number;
}

/** A parsed request: the recipe plus whether the format is still to be negotiated. */
export interface TransformRequest {
  recipe: Recipe;
  autoFormat: boolean;
  /** The Client Hints the recipe depended on (domain/client-hints.ts); absent: none. */
  hints?: HintName[];
}

export const MAX_DIMENSION = 8192;

export type Query = Record<string, string | string[] | undefined>;

/** Parameters that sit on delivery URLs but are not part of the recipe. */
export const DELIVERY_PARAMS = new Set(["download", "exp", "sig"]);

export const DEFAULT_PRESETS: Readonly<Record<string, Raw>> = {
  thumb: { w: "150", h: "150", fit: "cover", fmt: "auto" },
  small: { w: "320", h: "240", fit: "inside", fmt: "auto" },
  medium: { w: "800", h: "600", fit: "inside", fmt: "auto" },
  large: { w: "1920", h: "1080", fit: "inside", fmt: "auto" },
};

export type Presets = Readonly<Record<string, Readonly<Record<string, string>>>>;

const PRESET_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_PRESETS = 64;

/**
 * Presets as a site configures them (`ASSETD_PRESETS`): `{"name": "w=300&fmt=webp"}` or
 * `{"name": {"w": 300, "fmt": "webp"}}`. Each is checked like a request's query, so a bad
 * preset stops the service at start-up rather than failing on first use. They replace the
 * defaults: with signed-only transforms a site allows exactly these sizes.
 */
export function parsePresets(value: unknown): Presets {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidParameterError("presets", "presets must be a JSON object of name -> query");
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_PRESETS) throw new InvalidParameterError("presets", `at most ${MAX_PRESETS} presets`);
  const presets: Record<string, Record<string, string>> = {};
  for (const [name, definition] of entries) {
    if (!PRESET_NAME.test(name)) throw new InvalidParameterError("presets", `preset name '${name}' must be lowercase letters, digits, - or _ (at most 32)`);
    const raw: Record<string, string> = {};
    if (typeof definition === "string") {
      for (const [key, v] of new URLSearchParams(definition)) raw[key] = v;
    } else if (typeof definition === "object" && definition !== null && !Array.isArray(definition)) {
      for (const [key, v] of Object.entries(definition as Record<string, unknown>)) {
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
          throw new InvalidParameterError("presets", `preset '${name}': ${key} must be a string or number`);
        }
        raw[key] = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
      }
    } else {
      throw new InvalidParameterError("presets", `preset '${name}' must be a query string or an object`);
    }
    if ("preset" in raw || Object.keys(raw).some((key) => DELIVERY_PARAMS.has(key))) {
      throw new InvalidParameterError("presets", `preset '${name}' may hold transform parameters only`);
    }
    try {
      parseTransform(raw, {});
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidParameterError("presets", `preset '${name}': ${reason}`);
    }
    presets[name] = Object.freeze(raw);
  }
  return Object.freeze(presets);
}

const KNOWN = new Set(["w", "h", "fit", "pos", "fmt", "q", "dpr", "enlarge", "rotate", "flip", "flop", "blur",
  "sharpen", "bg", "strip", "page", "t", "preset", "crop", "trim", "max_bytes",
  "brightness", "contrast", "saturation"]);

/** True when the query asks for a variant rather than the original. */
export function hasTransform(query: Query): boolean {
  return Object.keys(query).some((k) => !DELIVERY_PARAMS.has(k));
}

/** True when the query asks for more than a named preset (what signed-only transforms guard). */
export function hasCustomTransform(query: Query): boolean {
  return Object.keys(query).some((k) => !DELIVERY_PARAMS.has(k) && k !== "preset");
}

/** `hints`: the request's Client Hints when ASSETD_CLIENT_HINTS is on (`w=auto`, DPR without `dpr`). */
export function parseTransform(query: Query, presets: Readonly<Record<string, Raw>> = DEFAULT_PRESETS, hints?: ClientHints): TransformRequest {
  const given: Raw = {};
  for (const [key, value] of Object.entries(query)) {
    if (DELIVERY_PARAMS.has(key) || value === undefined) continue;
    if (!KNOWN.has(key)) throw new InvalidParameterError(key, `unknown parameter '${key}'`);
    if (Array.isArray(value)) throw new InvalidParameterError(key, `parameter '${key}' is given more than once`);
    given[key] = value;
  }

  let raw: Raw = given;
  if (given.preset !== undefined) {
    const preset = Object.hasOwn(presets, given.preset) ? presets[given.preset] : undefined;
    if (!preset) throw new InvalidParameterError("preset", `unknown preset '${given.preset}'`);
    raw = { ...preset, ...given };
  }

  const r: Recipe = {};
  const explicitDpr = raw.dpr === undefined ? undefined : num(raw, "dpr", 1, 4);
  const hinted = applyHints({ w: raw.w, h: raw.h, dpr: explicitDpr }, hints);
  const dpr = explicitDpr ?? hinted.dpr ?? 1;
  const scale = (v: number) => Math.min(MAX_DIMENSION, Math.round(v * dpr));
  // `w=auto`: the width hint's (already in physical pixels), else no width.
  if (raw.w === "auto") {
    if (hinted.width !== undefined) r.w = hinted.width;
  } else if (raw.w !== undefined) r.w = scale(int(raw, "w", 1, MAX_DIMENSION));
  if (raw.h !== undefined) r.h = scale(int(raw, "h", 1, MAX_DIMENSION));
  const fit = raw.fit === undefined ? undefined : oneOf(raw, "fit", FITS);
  const pos = raw.pos === undefined ? undefined : parsePosition(raw.pos);
  if (r.w !== undefined && r.h !== undefined) {
    // With both sides, fit defaults to cover; the anchor only matters when cropping or padding.
    if (fit && fit !== "cover") r.fit = fit;
    const effectiveFit = fit ?? "cover";
    if (pos && pos !== "center" && (effectiveFit === "cover" || effectiveFit === "contain")) {
      if (effectiveFit === "contain" && (pos === "entropy" || pos === "attention")) {
        throw new InvalidParameterError("pos", "entropy and attention apply to fit=cover only");
      }
      r.pos = pos;
    }
  }
  if (raw.enlarge !== undefined && flag(raw, "enlarge")) r.enlarge = true;
  if (raw.rotate !== undefined) {
    const rotate = int(raw, "rotate", 0, 270);
    if (rotate % 90 !== 0) throw new InvalidParameterError("rotate", "rotate must be 0, 90, 180 or 270");
    if (rotate !== 0) r.rotate = rotate as 90 | 180 | 270;
  }
  if (raw.flip !== undefined && flag(raw, "flip")) r.flip = true;
  if (raw.flop !== undefined && flag(raw, "flop")) r.flop = true;
  if (raw.blur !== undefined) r.blur = num(raw, "blur", 0.3, 100);
  if (raw.sharpen !== undefined) {
    const v = raw.sharpen;
    if (v === "" || v === "true") r.sharpen = 1;
    else if (v !== "0" && v !== "false") r.sharpen = num(raw, "sharpen", 0.5, 10);
  }
  if (raw.bg !== undefined) r.bg = parseColour(raw.bg);
  let autoFormat = false;
  if (raw.fmt !== undefined) {
    const fmt = raw.fmt === "jpg" ? "jpeg" : raw.fmt;
    if (fmt === "auto") autoFormat = true;
    else r.fmt = oneOf({ fmt }, "fmt", ["jpeg", "png", "webp", "avif", "gif"] as const);
  }
  if (raw.q !== undefined) r.q = int(raw, "q", 1, 100);
  if (raw.strip !== undefined && !flag(raw, "strip")) r.strip = false;
  if (raw.page !== undefined) r.page = int(raw, "page", 1, 100_000);
  if (raw.t !== undefined) r.t = num(raw, "t", 0, 86_400);
  parseAdjustments(raw, r);
  return { recipe: r, autoFormat, ...(hinted.used.length > 0 ? { hints: hinted.used } : {}) };
}

/**
 * `fmt=auto`: only types the client lists explicitly count, so a crawler sending `*\/*`
 * gets the safe JPEG/PNG. AVIF first (smallest), then WebP.
 */
export function negotiateFormat(accept: string | undefined, options: { avif: boolean }): OutputFormat {
  const listed = new Set<string>();
  for (const part of (accept ?? "").split(",")) {
    const [type, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q && Number(q.slice(2)) <= 0) continue;
    if (type) listed.add(type.trim());
  }
  if (options.avif && listed.has("image/avif")) return "avif";
  if (listed.has("image/webp")) return "webp";
  return "jpeg-or-png";
}

export function withFormat(request: TransformRequest, negotiated: OutputFormat): Recipe {
  return request.autoFormat ? { ...request.recipe, fmt: negotiated } : request.recipe;
}

const ORDER: readonly (keyof Recipe)[] = ["page", "t", "crop", "trim", "w", "h", "fit", "pos", "enlarge", "rotate", "flip", "flop",
  "blur", "sharpen", "brightness", "contrast", "saturation", "bg", "fmt", "q", "max_bytes", "strip"];

/** `w=300&fmt=webp`: fixed key order, defaults already dropped by the parser. */
export function canonicalRecipe(recipe: Recipe): string {
  const parts: string[] = [];
  for (const key of ORDER) {
    const value = recipe[key];
    if (value === undefined) continue;
    parts.push(`${key}=${value === true ? 1 : value === false ? 0 : String(value)}`);
  }
  return parts.join("&");
}

/** sha256(blobSha256 + ":" + canonicalRecipe + ":" + processorVersion), hex. */
export function variantCacheKey(blobSha256: string, recipe: Recipe, processorVersion: string): string {
  return createHash("sha256").update(`${blobSha256}:${canonicalRecipe(recipe)}:${processorVersion}`).digest("hex");
}

const SIDES: Readonly<Record<string, string>> = {
  top: "north", north: "north", bottom: "south", south: "south", left: "west", west: "west", right: "east", east: "east",
};

/** Accepts `center`, `top`, `right top`, `top-right`, `northeast`, `entropy`, `attention`. */
export function parsePosition(text: string): Position {
  const value = text.trim().toLowerCase();
  if (value === "center" || value === "centre") return "center";
  if ((POSITIONS as readonly string[]).includes(value)) return value as Position;
  const words = value.split(/[\s,+_-]+/).filter(Boolean).map((w) => SIDES[w]);
  if (words.length >= 1 && words.length <= 2 && words.every(Boolean)) {
    const ns = words.find((w) => w === "north" || w === "south") ?? "";
    const ew = words.find((w) => w === "east" || w === "west") ?? "";
    const combined = ns + ew;
    if (combined && (words.length === 1 || (ns && ew))) return combined as Position;
  }
  throw new InvalidParameterError("pos", `pos must be center, a side or corner (e.g. 'right top'), entropy or attention`);
}

/** `#abc`, `abc`, `aabbcc`, `aabbccdd` -> lower-case 6 or 8 hex digits. */
export function parseColour(text: string): string {
  const hex = text.replace(/^#/, "").toLowerCase();
  if (/^[0-9a-f]{3,4}$/.test(hex)) return [...hex].map((c) => c + c).join("");
  if (/^[0-9a-f]{6}([0-9a-f]{2})?$/.test(hex)) return hex;
  throw new InvalidParameterError("bg", "bg must be a hex colour such as ffffff or ff000080");
}

/**
 * Without `enlarge` the engine never scales up, so a side asked beyond the source's
 * (EXIF-oriented) size gives exactly what asking for the source's size gives: with one
 * side, `inside`, `outside` and `fill` the shrink factor is clamped to 1 either way, and
 * `cover` crops to at most the scaled image. Clamping such sides makes equal outputs one
 * recipe, hence one cache key (`w=5000` and `w=8000` on a 2560-wide photo are `w=2560`).
 * `contain` pads out to the requested box, so its sides are kept as asked. With `crop`
 * the crop's size is what is resized, so it is the bound.
 */
export function clampToSource(recipe: Recipe, image: { width: number; height: number }): Recipe {
  if (recipe.enlarge) return recipe;
  // A crop is what gets resized: its size is the bound (when it fits; else the render refuses it).
  const box = recipe.crop === undefined ? undefined : cropBox(recipe.crop);
  const source = box ? { width: box.w, height: box.h } : image;
  if (recipe.w !== undefined && recipe.h !== undefined && recipe.fit === "contain") return recipe;
  const w = recipe.w !== undefined && recipe.w > source.width ? source.width : recipe.w;
  const h = recipe.h !== undefined && recipe.h > source.height ? source.height : recipe.h;
  if (w === recipe.w && h === recipe.h) return recipe;
  return { ...recipe, ...(w !== undefined ? { w } : {}), ...(h !== undefined ? { h } : {}) };
}
