import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { Fit, Position, Recipe } from "../../domain/recipe.js";
import { cropBox } from "../../domain/recipe-adjust.js";
import type { WebImageFormat } from "../../domain/media-types.js";
import type { RenderLimits } from "../../ports/image-engine.js";
import type { ImageHeader } from "./header.js";
import { parseIcc } from "./icc.js";
import { chooseOutputFormat, keepsAlpha, keepsAnimation, MAX_SIDE } from "./output-format.js";
import { resizedSize, type Size } from "./output-size.js";
import { fromHex, opaque, TRANSPARENT, WHITE, type Rgba } from "./rgba.js";

/**
 * Everything a render will do, decided from the header and the recipe before libvips
 * touches a pixel (STYLE habit 3). Immutable; each step reads only its own part.
 */
export interface RenderPlan {
  readonly load: {
    /** Read every frame: the source is animated and the output keeps the animation. */
    readonly animated: boolean;
    /** 0-based page/frame to read when not animated. */
    readonly pageIndex: number;
    /** sharp's own guard, in case a header lied: the pixels we planned for, no more. */
    readonly limitInputPixels: number | false;
  };
  readonly resize?: {
    readonly width?: number;
    readonly height?: number;
    readonly fit: Fit;
    readonly position: Position;
    readonly withoutEnlargement: boolean;
    /** Padding for `contain`. */
    readonly background: Rgba;
    /** false for a rung of the intermediate ladder: the rung is already the cheap decode. */
    readonly fastShrinkOnLoad: boolean;
  };
  /** `crop`: the rectangle kept, in upright source pixels, before the resize. */
  readonly crop?: { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
  /** `trim`: the threshold of the border removed before the resize (the size is then only bounded). */
  readonly trim?: number;
  readonly rotate?: 90 | 180 | 270;
  readonly flip: boolean;
  readonly flop: boolean;
  readonly blur?: number;
  readonly sharpen?: number;
  /** The tone multipliers (none of them 1). */
  readonly tone?: { readonly brightness?: number; readonly contrast?: number; readonly saturation?: number };
  /** Set when alpha must be merged onto a colour (JPEG output, or an opaque `bg`). */
  readonly flatten?: Rgba;
  readonly colour: {
    /**
     * Convert to sRGB explicitly at the end (attaching the sRGB profile or not). Needed where
     * sharp's implicit conversion is wrong: 16-bit input with a profile (sharp works in
     * Display P3 and writes those values unlabelled), and keeping metadata from a non-RGB
     * profile (sharp would attach a CMYK/grey profile to RGB pixels).
     */
    readonly toSrgb?: { readonly attach: boolean };
  };
  readonly output: {
    readonly format: WebImageFormat;
    readonly quality: number;
    readonly avifEffort: number;
    /** `strip=false`: EXIF, XMP, IPTC and the ICC profile are kept. */
    readonly keepMetadata: boolean;
    /** A rung of the intermediate ladder: JPEG without chroma subsampling (domain/ladder.ts). */
    readonly fullChroma?: boolean;
    /** `max_bytes`: `quality` is then the ceiling of the search (media/image/byte-budget.ts). */
    readonly maxBytes?: number;
  };
  /** Expected size of one output frame, and the number of frames. */
  readonly size: Size;
  readonly frames: number;
}

export interface PlanOptions {
  readonly avifEffort: number;
  /** sharp's deadline for one render (whole seconds); past it: 422 render_timeout. */
  readonly timeoutSeconds?: number;
  /** Rendering a rung of the intermediate ladder (full chroma). */
  readonly intermediate?: boolean;
  /** Rendering from a rung: no fast shrink-on-load. */
  readonly fromRung?: boolean;
}

const DEFAULT_QUALITY: Readonly<Record<WebImageFormat, number>> = { jpeg: 80, webp: 80, avif: 50, png: 100, gif: 100 };

/** Refuses a source whose frame is over the input limit: decided from the header alone. */
export function assertInputPixels(header: Pick<ImageHeader, "width" | "height">, limits: RenderLimits): void {
  const { width, height } = header;
  if (width * height > limits.maxInputPixels) {
    throw new AppError("pixel_limit_exceeded",
      `the image is ${width}x${height} (${width * height} pixels), over the limit of ${limits.maxInputPixels} pixels`,
      { width, height, limit: limits.maxInputPixels });
  }
}

/** Checks `page` against the source; returns the 0-based index. */
export function pageIndexOf(recipe: Recipe, header: Pick<ImageHeader, "pages">): number {
  if (recipe.page === undefined) return 0;
  if (recipe.page > header.pages) {
    throw new InvalidParameterError("page", `page ${recipe.page} does not exist: the image has ${header.pages} page(s)`);
  }
  return recipe.page - 1;
}

/**
 * `header` is the header of the page that will be read (see pageIndexOf). Throws
 * pixel_limit_exceeded or output_too_large before anything is decoded.
 */
export function planRender(header: ImageHeader, recipe: Recipe, limits: RenderLimits, options: PlanOptions): RenderPlan {
  assertInputPixels(header, limits);
  const pageIndex = pageIndexOf(recipe, header);
  const format = chooseOutputFormat(recipe.fmt, header.format, header.hasAlpha);

  const crop = cropOf(recipe, header);
  const resized = resizedSize(crop ? { width: crop.width, height: crop.height } : { width: header.displayWidth, height: header.displayHeight }, {
    w: recipe.w, h: recipe.h, fit: recipe.fit, enlarge: recipe.enlarge === true,
  });
  const size = recipe.rotate === 90 || recipe.rotate === 270 ? { width: resized.height, height: resized.width } : resized;
  assertOutputSize(size, format, limits);

  const inputPixels = header.width * header.height;
  const outputPixels = size.width * size.height;
  // Animation is kept only when every frame can go through the same pipeline and all the
  // frames together stay within the limits; otherwise the first frame makes a still.
  const animated = header.pages > 1 && (header.format === "gif" || header.format === "webp") &&
    recipe.page === undefined && keepsAnimation(format) && frameSafe(recipe, header) &&
    header.pages * inputPixels <= limits.maxInputPixels && header.pages * outputPixels <= limits.maxOutputPixels;
  const frames = animated ? header.pages : 1;

  const bg = recipe.bg === undefined ? undefined : fromHex(recipe.bg);
  const alphaOut = header.hasAlpha && keepsAlpha(format);
  const flatten = header.hasAlpha && (!keepsAlpha(format) || (bg !== undefined && bg.alpha === 1))
    ? opaque(bg ?? WHITE) : undefined;
  const padding = bg ?? (alphaOut && !flatten ? TRANSPARENT : WHITE);

  return {
    load: { animated, pageIndex, limitInputPixels: pixelGuard(limits.maxInputPixels * frames) },
    ...(recipe.w !== undefined || recipe.h !== undefined ? {
      resize: {
        ...(recipe.w !== undefined ? { width: recipe.w } : {}),
        ...(recipe.h !== undefined ? { height: recipe.h } : {}),
        // With one side the aspect ratio is kept whatever the fit; `inside` says so.
        fit: recipe.w !== undefined && recipe.h !== undefined ? recipe.fit ?? "cover" : "inside",
        position: recipe.pos ?? "center",
        withoutEnlargement: recipe.enlarge !== true,
        background: keepsAlpha(format) ? padding : opaque(padding),
        fastShrinkOnLoad: options.fromRung !== true,
      },
    } : {}),
    ...(crop ? { crop } : {}),
    ...(recipe.trim !== undefined ? { trim: recipe.trim } : {}),
    ...(recipe.rotate !== undefined ? { rotate: recipe.rotate } : {}),
    flip: recipe.flip === true,
    flop: recipe.flop === true,
    ...(recipe.blur !== undefined ? { blur: recipe.blur } : {}),
    ...(recipe.sharpen !== undefined ? { sharpen: recipe.sharpen } : {}),
    ...(toneOf(recipe) ?? {}),
    ...(flatten ? { flatten } : {}),
    colour: colourPlan(header, recipe.strip !== false),
    output: {
      format,
      quality: recipe.q ?? DEFAULT_QUALITY[format],
      avifEffort: options.avifEffort,
      keepMetadata: recipe.strip === false,
      ...(options.intermediate ? { fullChroma: true } : {}),
      ...(recipe.max_bytes !== undefined ? { maxBytes: recipe.max_bytes } : {}),
    },
    size,
    frames,
  };
}

function assertOutputSize(size: Size, format: WebImageFormat, limits: RenderLimits): void {
  const { width, height } = size;
  if (width * height > limits.maxOutputPixels) {
    throw new AppError("output_too_large",
      `the output would be ${width}x${height} (${width * height} pixels), over the limit of ${limits.maxOutputPixels} pixels`,
      { width, height, limit: limits.maxOutputPixels });
  }
  if (Math.max(width, height) > MAX_SIDE[format]) {
    throw new AppError("output_too_large", `the output would be ${width}x${height}, larger than ${format} allows`,
      { width, height, format, maxSide: MAX_SIDE[format] });
  }
}

/**
 * Operations libvips cannot apply to a strip of frames: 90/270 rotations and smart crops
 * throw, a crop or trim would cut the strip (and a byte budget searches one frame's encodings), and a 180 rotation or a vertical flip of the strip would reverse the frame order.
 */
function frameSafe(recipe: Recipe, header: ImageHeader): boolean {
  return recipe.rotate === undefined && recipe.crop === undefined && recipe.trim === undefined &&
    recipe.max_bytes === undefined && recipe.flip !== true && header.orientation === 1 &&
    recipe.pos !== "entropy" && recipe.pos !== "attention";
}

function toneOf(recipe: Recipe): { tone: NonNullable<RenderPlan["tone"]> } | undefined {
  const { brightness, contrast, saturation } = recipe;
  if (brightness === undefined && contrast === undefined && saturation === undefined) return undefined;
  return { tone: { ...(brightness !== undefined ? { brightness } : {}), ...(contrast !== undefined ? { contrast } : {}),
    ...(saturation !== undefined ? { saturation } : {}) } };
}

/**
 * `crop` against the upright page: a rectangle reaching outside it is refused like a page
 * that does not exist (400 invalid_parameter naming `crop`), before anything is decoded.
 */
function cropOf(recipe: Recipe, header: ImageHeader): RenderPlan["crop"] {
  if (recipe.crop === undefined) return undefined;
  const { x, y, w, h } = cropBox(recipe.crop);
  const width = header.displayWidth;
  const height = header.displayHeight;
  if (x + w > width || y + h > height) {
    throw new InvalidParameterError("crop", `crop ${recipe.crop} does not lie inside the ${width}x${height} image`);
  }
  return { left: x, top: y, width: w, height: h };
}

function colourPlan(header: ImageHeader, strip: boolean): RenderPlan["colour"] {
  if (!header.hasProfile) return {};
  if (strip) return header.space === "rgb16" ? { toSrgb: { attach: false } } : {};
  const profileSpace = header.icc ? parseIcc(header.icc)?.colourSpace : undefined;
  // An RGB profile is kept with the untouched pixels; any other is converted away.
  return profileSpace === "RGB" ? {} : { toSrgb: { attach: true } };
}

/** sharp's `limitInputPixels` wants a safe integer; an unlimited configuration means `false`. */
export function pixelGuard(pixels: number): number | false {
  return Number.isFinite(pixels) ? Math.min(Math.floor(pixels), Number.MAX_SAFE_INTEGER) : false;
}
