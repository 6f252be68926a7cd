import { AppError } from "../../domain/errors.js";
import { FORMAT_CONTENT_TYPE } from "../../domain/media-types.js";
import type { SourceFacts } from "../../domain/ladder.js";
import type { Recipe } from "../../domain/recipe.js";
import type { ImageSource, RenderedImage, RenderLimits } from "../../ports/image-engine.js";
import { readHeader } from "./header.js";
import { mapMediaErrors } from "./media-error.js";
import { scrubLocation } from "./location-scrub.js";
import { buildPipeline, buildPixels } from "./pipeline.js";
import { encodeWithin } from "./byte-budget.js";
import { assertInputPixels, pageIndexOf, planRender, type PlanOptions } from "./plan.js";
import type { HeifDecoder } from "./heif-decode.js";
import { decodableInput, decodedHeader, openSource } from "./source-input.js";

export interface RenderOptions extends PlanOptions {
  /** Decodes HEIC; without it HEIC is transform_unsupported. */
  readonly heif?: HeifDecoder;
}

/** Header, plan, one libvips run. Every failure leaves as an AppError. */
export async function renderImage(source: ImageSource, recipe: Recipe, limits: RenderLimits,
  options: RenderOptions): Promise<RenderedImage> {
  const { heif, ...planOptions } = options;
  const opened = await openSource(source);
  let header = await readHeader(opened);
  // Before anything else touches the file: a bomb is refused on its header.
  assertInputPixels(header, limits);
  const pageIndex = pageIndexOf(recipe, header);
  const input = await decodableInput(opened, header, source, limits, heif);
  header = decodedHeader(header, input);
  // Decoded pixels are one image (HEIC has one page: pageIndexOf refused any other).
  if (pageIndex > 0 && (typeof input === "string" || Buffer.isBuffer(input))) {
    header = { ...(await readHeader(input, pageIndex)), pages: header.pages };
  }

  const plan = planRender(header, recipe, limits, source.rung ? { ...planOptions, fromRung: true } : planOptions);
  let pipeline;
  const maxBytes = plan.output.maxBytes;
  try {
    pipeline = maxBytes === undefined ? buildPipeline(input, plan) : buildPixels(input, plan);
    if (options.timeoutSeconds !== undefined) pipeline.timeout({ seconds: options.timeoutSeconds });
  } catch (error) {
    // sharp validates options synchronously: a throw here is a planning bug, not bad input.
    throw new AppError("internal", "the image pipeline could not be built", {}, { cause: error });
  }
  const format = plan.output.format;
  if (maxBytes !== undefined) {
    // No metadata to keep: the parser refuses max_bytes with strip=0.
    const budgeted = await encodeWithin(pipeline, plan.output, maxBytes);
    return {
      data: budgeted.data, contentType: FORMAT_CONTENT_TYPE[format], format, width: budgeted.width, height: budgeted.height,
      ...(budgeted.quality !== undefined ? { quality: budgeted.quality } : {}),
    };
  }
  const { data: encoded, info } = await mapMediaErrors(() => pipeline.toBuffer({ resolveWithObject: true }));
  // Location privacy (DESIGN §10): `strip=0` keeps EXIF, XMP, IPTC and ICC but never GPS.
  // A variant is one cached rendering for every caller, so it is always scrubbed; the
  // owner's untouched metadata is in the original.
  const data = plan.output.keepMetadata ? scrubLocation(encoded).bytes : encoded;
  return {
    data,
    contentType: FORMAT_CONTENT_TYPE[format],
    format,
    width: info.width,
    // Animated output is a strip of frames; callers want one frame's height.
    height: info.pageHeight ?? info.height,
  };
}

/** What the transformation graph needs to know of a source, from its header. */
export async function inspectImage(source: ImageSource): Promise<SourceFacts> {
  const header = await readHeader(await openSource(source));
  return { width: header.displayWidth, height: header.displayHeight, format: header.format, hasAlpha: header.hasAlpha, frames: header.pages };
}
