import sharp, { type Metadata } from "sharp";
import { AppError } from "../../domain/errors.js";
import type { MediaProbe, ProbeSource } from "../../ports/media-probe.js";
import { configureSharp } from "./configure-sharp.js";
import { readExif } from "./exif.js";

/**
 * HEIC/HEIF facts from the container header, for what the image engine does not describe
 * itself (HEIF sequences; HEIC when the engine has no HEIF decoder). sharp's prebuilt
 * libvips parses HEIF boxes but cannot decode HEVC pixels: the engine decodes HEIC through
 * libheif (heif-decode.ts), so this describes without decoding (dimensions, orientation, EXIF).
 */
export function createHeifProbe(): MediaProbe {
  configureSharp();
  return {
    handles: (contentType) => contentType === "image/heic" || contentType === "image/heif" || contentType === "image/avif-sequence",
    async describe(source: ProbeSource) {
      let metadata: Metadata;
      try {
        metadata = await sharp(source.path ?? (await source.read())).metadata();
      } catch (error) {
        throw new AppError("undecodable_media", "the image could not be read", {}, { cause: error });
      }
      if (!metadata.width || !metadata.height) throw new AppError("undecodable_media", "the image header has no dimensions");
      const orientation = metadata.orientation ?? 1;
      const turned = orientation >= 5 && orientation <= 8;
      const exif = await readExif(metadata.exif);
      return {
        width: turned ? metadata.height : metadata.width,
        height: turned ? metadata.width : metadata.height,
        format: "heif",
        orientation,
        hasAlpha: metadata.hasAlpha ?? false,
        ...(metadata.pages && metadata.pages > 1 ? { frames: metadata.pages } : {}),
        ...(exif ? { exif } : {}),
        decoded: false,
      };
    },
    async status() {
      return { name: "libvips-heif", available: true, version: `libvips ${sharp.versions.vips} (HEIF header; HEIC pixels through libheif)` };
    },
  };
}
