import type { OutputFormat } from "../../domain/recipe.js";
import { WEB_IMAGE_FORMATS, type WebImageFormat } from "../../domain/media-types.js";
import type { SourceFormat } from "./header.js";

/**
 * The concrete output format (DESIGN §5): an explicit `fmt` wins; `jpeg-or-png` and an
 * absent `fmt` on a format browsers cannot show pick PNG when the source has alpha (so
 * transparency survives) and JPEG otherwise.
 */
export function chooseOutputFormat(fmt: OutputFormat | undefined, source: SourceFormat, hasAlpha: boolean): WebImageFormat {
  if (fmt !== undefined && fmt !== "jpeg-or-png") return fmt;
  if (fmt === undefined && (WEB_IMAGE_FORMATS as readonly string[]).includes(source)) return source as WebImageFormat;
  return hasAlpha ? "png" : "jpeg";
}

/** Formats whose encoder keeps an alpha channel. */
export function keepsAlpha(format: WebImageFormat): boolean {
  return format !== "jpeg";
}

/** Formats whose encoder writes every frame of an animation. */
export function keepsAnimation(format: WebImageFormat): boolean {
  return format === "gif" || format === "webp";
}

/**
 * Largest side each encoder accepts (libjpeg 65535, libwebp 16383, GIF 65535, AVIF as
 * libheif is built for sharp 16384, PNG 2^31). Checked before rendering so a too-wide
 * output is a clear 422 instead of an encoder error after the decode work is done.
 */
export const MAX_SIDE: Readonly<Record<WebImageFormat, number>> = {
  jpeg: 65_535, png: 2_147_483_647, webp: 16_383, gif: 65_535, avif: 16_384,
};
