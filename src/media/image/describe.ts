import sharp from "sharp";
import type { AssetMeta } from "../../ports/repos.js";
import type { ImageSource, RenderLimits } from "../../ports/image-engine.js";
import { readExif } from "./exif.js";
import { readHeader, type ImageHeader } from "./header.js";
import { parseIcc } from "./icc.js";
import { mapMediaErrors } from "./media-error.js";
import { pixelGuard } from "./plan.js";
import { asSvgSafeInput, openSource, type EngineInput } from "./source-input.js";

/** Side of the proof-of-decode thumbnail: small enough to be cheap, but every row is read. */
const PROOF_SIDE = 32;

const BIT_DEPTH: Readonly<Record<string, number>> = {
  uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64, complex: 64, dpcomplex: 128,
};

/**
 * Manifest facts from the header. Unless the image is over the pixel limit (then it is
 * reported as such and never decoded), a thumbnail is rendered to prove the pixels decode:
 * a truncated JPEG has a perfect header and must still fail here, at ingest.
 */
export async function describeImage(source: ImageSource, limits: RenderLimits): Promise<AssetMeta> {
  const opened = await openSource(source);
  const header = await readHeader(opened);
  const input = await asSvgSafeInput(opened, header.format, source);
  const facts = await headerFacts(header);
  if (header.width * header.height > limits.maxInputPixels) return { ...facts, overPixelLimit: true };
  await proveDecodes(input, header, limits);
  return facts;
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

/** Decodes every frame of an animation (a later frame can be the broken one) within the limit. */
async function proveDecodes(input: EngineInput, h: ImageHeader, limits: RenderLimits): Promise<void> {
  const allFrames = h.pages > 1 && (h.format === "gif" || h.format === "webp") &&
    h.pages * h.width * h.height <= limits.maxInputPixels;
  await mapMediaErrors(() => sharp(input, {
    failOn: "error",
    limitInputPixels: pixelGuard(limits.maxInputPixels * (allFrames ? h.pages : 1)),
    ...(allFrames ? { animated: true } : {}),
  }).resize(PROOF_SIDE, PROOF_SIDE, { fit: "inside" }).raw().toBuffer());
}
