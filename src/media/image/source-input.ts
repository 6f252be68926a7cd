import sharp, { type Sharp, type SharpOptions } from "sharp";
import { AppError } from "../../domain/errors.js";
import type { ImageSource, RenderLimits } from "../../ports/image-engine.js";
import type { ImageHeader } from "./header.js";
import type { DecodedPixels, HeifDecoder } from "./heif-decode.js";

/** Decoded pixels from a decoder other than libvips (HEIC through libheif). */
export interface RawInput {
  readonly raw: DecodedPixels;
}

export type EngineInput = string | Buffer | RawInput;

/**
 * A path lets libvips read (and shrink-on-load) straight from disk. SVG is the exception:
 * librsvg resolves `<image href>` and other external references relative to the file's
 * location, so SVG is always handed over as a Buffer, which has no location at all.
 */
export async function openSource(source: ImageSource): Promise<string | Buffer> {
  if (source.path && source.contentType !== "image/svg+xml") return source.path;
  return source.read();
}

/** The sniffed type can be wrong about SVG only if a sniffer is; the header has the last word. */
export async function asSvgSafeInput(input: string | Buffer, format: string, source: ImageSource): Promise<string | Buffer> {
  return format === "svg" && typeof input === "string" ? source.read() : input;
}

/**
 * What libvips reads for a source whose header has been checked against the limits. HEIC is
 * decoded first (libheif, on a worker thread); every other format is libvips' own to read.
 */
export async function decodableInput(input: string | Buffer, header: ImageHeader, source: ImageSource,
  limits: RenderLimits, heif: HeifDecoder | undefined): Promise<EngineInput> {
  if (header.format !== "heic") return asSvgSafeInput(input, header.format, source);
  if (!heif) throw new AppError("transform_unsupported", "HEIC images are not decoded by this engine", { format: "heic" });
  const bytes = typeof input === "string" ? await source.read() : input;
  return { raw: await heif.decode(bytes, limits.maxInputPixels) };
}

/**
 * The header as the decoded pixels are: libheif has applied the container's transforms
 * (irot, imir, clap) and hands over 8-bit sRGB-assumed pixels without a profile.
 */
export function decodedHeader(header: ImageHeader, input: EngineInput): ImageHeader {
  if (typeof input === "string" || Buffer.isBuffer(input)) return header;
  const { width, height, channels } = input.raw;
  const { icc: _profile, ...rest } = header;
  return {
    ...rest, width, height, displayWidth: width, displayHeight: height, orientation: 1, pages: 1,
    hasAlpha: channels === 4, hasProfile: false, space: "srgb", channels, depth: "uchar",
  };
}

/** A sharp instance over any engine input; `page`/`animated` do not apply to raw pixels. */
export function openSharp(input: EngineInput, options: SharpOptions): Sharp {
  if (typeof input === "string" || Buffer.isBuffer(input)) return sharp(input, options);
  const { data, width, height, channels } = input.raw;
  const { limitInputPixels } = options;
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels },
    ...(limitInputPixels !== undefined ? { limitInputPixels } : {}),
  });
}
