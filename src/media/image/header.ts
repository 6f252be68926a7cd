import sharp, { type Metadata } from "sharp";
import { AppError } from "../../domain/errors.js";
import { mapMediaErrors } from "./media-error.js";

/**
 * Source formats this engine decodes, named as a browser would (AVIF is not "heif"). HEIC
 * (HEVC-coded HEIF) is decoded by libheif, not libvips (source-input.ts).
 */
export const DECODABLE_FORMATS = ["jpeg", "png", "webp", "gif", "avif", "tiff", "svg", "heic"] as const;
export type SourceFormat = (typeof DECODABLE_FORMATS)[number];

/** What the file's header says, read without decoding pixels. */
export interface ImageHeader {
  readonly format: SourceFormat;
  /** Stored size of one page/frame (EXIF orientation not applied). */
  readonly width: number;
  readonly height: number;
  /** Size as displayed, after EXIF orientation. */
  readonly displayWidth: number;
  readonly displayHeight: number;
  readonly orientation: number;
  /** Pages (TIFF) or frames (GIF, WebP); 1 for a single image. */
  readonly pages: number;
  readonly hasAlpha: boolean;
  readonly hasProfile: boolean;
  readonly space: string;
  readonly channels: number;
  readonly depth: string;
  readonly icc?: Buffer;
  readonly exif?: Buffer;
}

/**
 * Reads the header only. sharp's own pixel limit also applies to `metadata()`, which would
 * turn a decompression bomb into an anonymous error; we lift it here (a header read never
 * allocates pixels) so the caller can name the limit with the real dimensions.
 * `pageIndex` (0-based) reads that page's header: TIFF pages may differ in size.
 */
export async function readHeader(input: string | Buffer, pageIndex = 0): Promise<ImageHeader> {
  const meta = await mapMediaErrors(() => sharp(input, { limitInputPixels: false, page: pageIndex }).metadata());
  return toHeader(meta);
}

function toHeader(meta: Metadata): ImageHeader {
  const format = sourceFormat(meta);
  const orientation = meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  return {
    format,
    width: meta.width,
    height: meta.height,
    displayWidth: meta.autoOrient?.width ?? meta.width,
    displayHeight: meta.autoOrient?.height ?? meta.height,
    orientation,
    // A multi-image HEIC is read as its primary image alone.
    pages: format === "heic" ? 1 : Math.max(1, meta.pages ?? 1),
    hasAlpha: meta.hasAlpha,
    hasProfile: meta.hasProfile,
    space: meta.space,
    channels: meta.channels,
    depth: meta.depth,
    ...(meta.icc ? { icc: meta.icc } : {}),
    ...(meta.exif ? { exif: meta.exif } : {}),
  };
}

function sourceFormat(meta: Metadata): SourceFormat {
  const name: string = meta.format;
  if (name === "heif") {
    if (meta.compression === "av1") return "avif";
    if (meta.compression === "hevc") return "heic";
    throw new AppError("transform_unsupported", `HEIF images coded as ${meta.compression ?? "unknown"} are not decoded by this engine`,
      { format: "heif", compression: meta.compression });
  }
  if ((DECODABLE_FORMATS as readonly string[]).includes(name)) return name as SourceFormat;
  throw new AppError("transform_unsupported", `${name} images are not decoded by this engine`, { format: name });
}
