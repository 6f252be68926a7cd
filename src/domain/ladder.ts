import { createHash } from "node:crypto";
import { resizedSize, type Size } from "./resize-size.js";
import type { Recipe } from "./recipe.js";

/**
 * The transformation graph's intermediate ladder. A variant of a large image is derived from
 * a fixed, cached rendition of it (a rung: the long side scaled to one of a few sizes,
 * upright, sRGB, stripped, encoded at high quality or losslessly) instead of decoding the
 * whole original again, when the result is the same image.
 *
 * The rung is chosen from the recipe and the source's facts alone, never from what is
 * cached, so the bytes under a cache key never depend on cache history; the policy is part
 * of the processor version, so changing it changes every cache key.
 *
 * The smallest rung at least `oversample` times the resolution the output needs is chosen.
 * libvips' guidance is 2x or more against aliasing; 3x is what kept every fixture photo's
 * derived render as faithful as the from-original one (at 2.1x, a 20 MP photo's 480x300
 * lost detail: SSIM 0.977 against an exact rendering where the original path gave 0.994).
 */
export interface LadderPolicy {
  /** Long sides of the rungs, ascending. */
  readonly rungs: readonly number[];
  /** Sources below this many pixels render from the original (the gain is small). */
  readonly minSourcePixels: number;
  /** A rung must hold at least this many times the pixels per side the output needs. */
  readonly oversample: number;
  /** A rung must be this many times smaller than the source's long side to be worth it. */
  readonly headroom: number;
}

export const DEFAULT_LADDER: LadderPolicy = Object.freeze({
  // No 4096 rung: decoding one without shrink-on-load cost more than the original's
  // shrink-on-load path for the outputs it would serve (w=1200 from 20 MP measured 0.63×).
  rungs: Object.freeze([512, 1024, 2048]),
  minSourcePixels: 8_000_000,
  oversample: 3,
  headroom: 1.25,
});

/** High quality for the lossy rung (JPEG, 4:4:4 chroma); sources with alpha get a lossless PNG rung. */
export const RUNG_QUALITY = 95;

/** Identifies the policy inside the processor version: `l0` when the graph is off. */
export function ladderVersion(policy: LadderPolicy | undefined): string {
  if (!policy) return "l0";
  return `l1-${policy.rungs.join(".")}-x${policy.oversample}-h${policy.headroom}-m${policy.minSourcePixels}`;
}

/** The processor version of variant cache keys: the engine's, then the ladder policy's. */
export function graphProcessorVersion(engineVersion: string, policy: LadderPolicy | undefined): string {
  return `${engineVersion}+${ladderVersion(policy)}`;
}

/** The canonical recipe text recorded for a rung (no transform query can spell it). */
export function rungRecipe(rung: number): string {
  return `intermediate=${rung}`;
}

export function isRungRecipe(recipe: string): boolean {
  return recipe.startsWith("intermediate=");
}

/** sha256(contentKey + ":" + "intermediate=<rung>" + ":" + processorVersion), like any variant's key. */
export function rungCacheKey(contentKey: string, rung: number, processorVersion: string): string {
  return createHash("sha256").update(`${contentKey}:${rungRecipe(rung)}:${processorVersion}`).digest("hex");
}

/** What is known of the source without decoding it (displayed size, after EXIF orientation). */
export interface SourceFacts {
  readonly width: number;
  readonly height: number;
  /** Format as the engine names it: jpeg, png, webp, avif, gif, tiff, svg. */
  readonly format: string;
  readonly hasAlpha: boolean;
  /** Frames (animations) or pages; 1 for a single image. */
  readonly frames: number;
}

export interface Derivation {
  /** Long side of the rung to render from. */
  readonly rung: number;
  /** What to render from the rung: the same output as the recipe from the original. */
  readonly recipe: Recipe;
}

/**
 * Recipe fields whose effect is the same whether applied to the original or to a rung.
 * Not `sharpen`: it amplifies the resampling's last-bit differences (SSIM 0.955-0.987 on
 * the fixture photos, against >= 0.99 for everything else).
 */
const DERIVABLE = new Set<keyof Recipe>(["w", "h", "fit", "pos", "enlarge", "rotate", "flip", "flop", "blur", "bg", "fmt", "q"]);

/** Source formats a rung stands in for: raster, one frame (not SVG, whose size is chosen at render, nor GIF's palette). */
const DERIVABLE_SOURCES = new Set(["jpeg", "png", "webp", "avif", "tiff"]);

/**
 * The rung to derive `recipe` from, or undefined to render from the original. Derivation
 * only where it is provably the same image: no `strip=0` (metadata lives in the original),
 * no `page`/`t`, no animation or pages, no smart crops (`entropy`/`attention` analyse pixels), no `sharpen`,
 * no two-sided `inside`,
 * no parameter this rule does not know (a new parameter is from the original until shown
 * equivalent: `crop` counts source pixels, so it always renders from the original), and only when the output is at least `oversample` times smaller per side.
 */
export function chooseDerivation(recipe: Recipe, source: SourceFacts, policy: LadderPolicy | undefined): Derivation | undefined {
  if (!policy) return undefined;
  const { width, height } = source;
  if (!(width > 0 && height > 0) || width * height < policy.minSourcePixels) return undefined;
  if (source.frames > 1 || !DERIVABLE_SOURCES.has(source.format)) return undefined;
  for (const key of Object.keys(recipe) as (keyof Recipe)[]) {
    if (recipe[key] !== undefined && !DERIVABLE.has(key)) return undefined;
  }
  if (recipe.w === undefined && recipe.h === undefined) return undefined;
  if (recipe.pos === "entropy" || recipe.pos === "attention") return undefined;
  // Measured, not yet explained: a two-sided `inside` of a 20 MP photo derived from its rung
  // came out less faithful (SSIM 0.978 against an exact rendering, 0.994 from the original).
  if (recipe.w !== undefined && recipe.h !== undefined && recipe.fit === "inside") return undefined;

  const needed = neededScale(recipe, source) * Math.max(width, height);
  const longSide = Math.max(width, height);
  const rung = policy.rungs.find((r) => r >= policy.oversample * needed && r * policy.headroom <= longSide);
  if (rung === undefined) return undefined;
  return { rung, recipe: derivedRecipe(recipe, source) };
}

/** Scale from the source to the output's resolution (what the resize must preserve). */
function neededScale(recipe: Recipe, source: Size): number {
  const sx = recipe.w === undefined ? undefined : recipe.w / source.width;
  const sy = recipe.h === undefined ? undefined : recipe.h / source.height;
  let s: number;
  if (sx !== undefined && sy !== undefined) {
    const fit = recipe.fit ?? "cover";
    s = fit === "inside" || fit === "contain" ? Math.min(sx, sy) : Math.max(sx, sy);
  } else s = (sx ?? sy)!;
  return recipe.enlarge ? s : Math.min(1, s);
}

/**
 * The recipe to apply to the rung. Two things the rung would otherwise change are fixed
 * from the original: the output format when it follows the source's (the rung is a JPEG
 * or PNG whatever the source), and the output size when the engine derives it from the
 * source's aspect ratio (the rung's is rounded), which becomes an exact `fill` of the size
 * the original would have given.
 */
function derivedRecipe(recipe: Recipe, source: SourceFacts): Recipe {
  const derived: Recipe = { ...recipe, fmt: outputFormatFor(recipe, source) };
  const bothSides = recipe.w !== undefined && recipe.h !== undefined;
  const fit = bothSides ? recipe.fit ?? "cover" : "inside";
  if (fit === "inside" || fit === "outside") {
    const size = resizedSize({ width: source.width, height: source.height }, {
      w: recipe.w, h: recipe.h, ...(bothSides ? { fit } : {}), enlarge: recipe.enlarge === true,
    });
    derived.w = size.width;
    derived.h = size.height;
    derived.fit = "fill";
    delete derived.pos;
  }
  return derived;
}

/** The format the engine would choose from the original (media/image/output-format.ts, same rule). */
export function outputFormatFor(recipe: Recipe, source: Pick<SourceFacts, "format" | "hasAlpha">): NonNullable<Recipe["fmt"]> {
  if (recipe.fmt !== undefined && recipe.fmt !== "jpeg-or-png") return recipe.fmt;
  if (recipe.fmt === undefined && ["jpeg", "png", "webp", "avif", "gif"].includes(source.format)) return source.format as "jpeg";
  return source.hasAlpha ? "png" : "jpeg";
}

/** Facts from stored metadata, when extraction has run and recorded them. */
export function factsFromMeta(meta: Record<string, unknown> | null | undefined): SourceFacts | undefined {
  if (!meta) return undefined;
  const { width, height, format } = meta;
  if (typeof width !== "number" || typeof height !== "number" || typeof format !== "string") return undefined;
  const frames = typeof meta.frames === "number" ? meta.frames : typeof meta.pages === "number" ? meta.pages : meta.animated === true ? 2 : 1;
  return { width, height, format, hasAlpha: meta.hasAlpha === true, frames };
}
