import sharp, { type Sharp } from "sharp";
import { AppError } from "../../domain/errors.js";
import type { WebImageFormat } from "../../domain/media-types.js";
import type { RenderPlan } from "./plan.js";
import { mapMediaErrors } from "./media-error.js";
import { encode } from "./steps/output.js";

/** The lowest quality the search goes down to before it makes the image smaller instead. */
export const MIN_BUDGET_QUALITY = 10;
/** Each size step keeps this fraction of both sides. */
export const BUDGET_SIZE_STEP = 0.8;
/** The size steps stop at this long side; what still does not fit is refused (422 output_too_large). */
export const MIN_BUDGET_SIDE = 16;

const LOSSY = new Set<WebImageFormat>(["jpeg", "webp", "avif"]);

export interface BudgetedImage {
  data: Buffer;
  width: number;
  height: number;
  /** The quality chosen (lossy formats only). */
  quality?: number;
}

/**
 * `max_bytes`: the pixels are computed once (decode, resize, every step), then encoded
 * until the output fits: the highest quality from MIN_BUDGET_QUALITY to the ceiling
 * (`q`, else the format's default) by binary search over integers; when even the lowest
 * does not fit, the sides shrink by BUDGET_SIZE_STEP and the search runs again. Lossless
 * formats (PNG, GIF) only shrink. Every step depends on the pixels and the budget alone,
 * and the encoders are deterministic, so a cache key always names the same bytes.
 */
export async function encodeWithin(pixels: Sharp, output: RenderPlan["output"], maxBytes: number): Promise<BudgetedImage> {
  const { data: raw, info } = await mapMediaErrors(() => pixels.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true }));
  const rawInput = { raw: { width: info.width, height: info.height, channels: info.channels } };
  const lossy = LOSSY.has(output.format);
  const ceiling = output.quality;
  const floor = Math.min(MIN_BUDGET_QUALITY, ceiling);

  let width = info.width;
  let height = info.height;
  for (let shrunk = false; ; shrunk = true) {
    const at = (quality: number) => mapMediaErrors(() => {
      let image = sharp(raw, rawInput);
      if (shrunk) image = image.resize({ width, height, fit: "fill" });
      return encode(image, { ...output, quality }).toBuffer();
    });
    const fits = (data: Buffer) => data.length <= maxBytes;
    // At the requested size the ceiling usually fits (one encode); once shrinking, the floor
    // is tried first, since the ceiling did not fit at the size before.
    let low = lossy && shrunk ? await at(floor) : undefined;
    if (!low || fits(low)) {
      const best = await at(ceiling);
      if (fits(best)) return { data: best, width, height, ...(lossy ? { quality: ceiling } : {}) };
      low ??= lossy ? await at(floor) : undefined;
    }
    if (low && fits(low)) {
      // Invariant: `lo` fits, `hi` does not.
      let lo = floor;
      let hi = ceiling;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        const data = await at(mid);
        if (fits(data)) {
          lo = mid;
          low = data;
        } else hi = mid;
      }
      return { data: low, width, height, quality: lo };
    }
    if (Math.max(width, height) <= MIN_BUDGET_SIDE) {
      throw new AppError("output_too_large", `the image does not fit in ${maxBytes} bytes at any quality or size`,
        { maxBytes, format: output.format });
    }
    width = Math.max(1, Math.round(width * BUDGET_SIZE_STEP));
    height = Math.max(1, Math.round(height * BUDGET_SIZE_STEP));
  }
}
