import type { AssetMeta } from "../../ports/repos.js";
import type { ImageSource, RenderLimits } from "../../ports/image-engine.js";
import { readExif } from "./exif.js";
import { fingerprint, type RgbaThumbnail } from "./fingerprint.js";
import { readHeader, type ImageHeader } from "./header.js";
import { parseIcc } from "./icc.js";
import { mapMediaErrors } from "./media-error.js";
import { pixelGuard } from "./plan.js";
import type { HeifDecoder } from "./heif-decode.js";
import { decodableInput, decodedHeader, openSharp, openSource, type EngineInput } from "./source-input.js";

/**
 * Side of the proof-of-decode thumbnail: small enough to be cheap (JPEG shrinks on load),
 * but every row is read; and big enough for the fingerprints (blurhash, dominant colour,
 * perceptual hash), which are computed from it rather than from a second decode.
 */
const THUMB_SIDE = 64;

const BIT_DEPTH: Readonly<Record<string, number>> = {
  uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64, complex: 64, dpcomplex: 128,
};

/**
 * Manifest facts from the header. Unless the image is over the pixel limit (then it is
 * reported as such and never decoded), a thumbnail is rendered to prove the pixels decode:
 * a truncated JPEG has a perfect header and must still fail here, at ingest. The same
 * thumbnail gives the pixel fingerprints (fingerprint.ts).
 */
export async function describeImage(source: ImageSource, limits: RenderLimits, heif?: HeifDecoder): Promise<AssetMeta> {
  const opened = await openSource(source);
  const header = await readHeader(opened);
  const facts = await headerFacts(header);
  if (header.width * header.height > limits.maxInputPixels) return { ...facts, overPixelLimit: true };
  const input = await decodableInput(opened, header, source, limits, heif);
  const thumb = await decodeThumbnail(input, decodedHeader(header, input), limits);
  return { ...facts, ...fingerprint(thumb) };
}

async function headerFacts(h: ImageHeader): Promise<AssetMeta> {
  const animated = h.pages > 1 && (h.format === "gif" || h.format === "webp");
  const iccDescription = h.icc ? parseIcc(h.icc)?.description : undefined;
  const exif = await readExif(h.exif);
  return {
    width: h.displayWidth,
    height: h.displayHeight,
    format: h.format,
    orientation: h.orientation,
    hasAlpha: h.hasAlpha,
    animated,
    ...(animated ? { frames: h.pages } : {}),
    ...(!animated && h.pages > 1 ? { pages: h.pages } : {}),
    space: h.space,
    channels: h.channels,
    bitDepth: BIT_DEPTH[h.depth] ?? 8,
    ...(iccDescription ? { iccDescription } : {}),
    ...(exif ? { exif } : {}),
  };
}

/**
 * Decodes every frame of an animation (a later frame can be the broken one) within the
 * limit, upright, as 8-bit sRGB RGBA (CMYK, grey, 16-bit and palette sources alike), and
 * returns the first frame.
 */
async function decodeThumbnail(input: EngineInput, h: ImageHeader, limits: RenderLimits): Promise<RgbaThumbnail> {
  const allFrames = h.pages > 1 && (h.format === "gif" || h.format === "webp") &&
    h.pages * h.width * h.height <= limits.maxInputPixels;
  const { data, info } = await mapMediaErrors(() => {
    const image = openSharp(input, {
      failOn: "error",
      limitInputPixels: pixelGuard(limits.maxInputPixels * (allFrames ? h.pages : 1)),
      ...(allFrames ? { animated: true } : {}),
    });
    // Orientation only when there is one: libvips rotates by copying the pixels.
    return (h.orientation > 1 ? image.autoOrient() : image)
      .resize(THUMB_SIDE, THUMB_SIDE, { fit: "inside" })
      .toColourspace("srgb")
      .ensureAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  });
  // An animation comes back as its frames stacked top to bottom.
  const height = info.pageHeight ?? info.height;
  return { data: data.subarray(0, info.width * height * 4), width: info.width, height };
}
