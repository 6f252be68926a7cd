import { availableParallelism } from "node:os";
import sharp from "sharp";
import { AppError } from "../../domain/errors.js";
import { normaliseType } from "../../domain/media-types.js";
import type { CpuBudget } from "../../ports/cpu-budget.js";
import type { ImageEngine } from "../../ports/image-engine.js";
import { configureSharp } from "./configure-sharp.js";
import { describeImage } from "./describe.js";
import { createCpuBudget } from "../cpu-budget.js";
import type { HeifDecoder } from "./heif-decode.js";
import { inspectImage, renderImage } from "./render.js";
import { RUNG_QUALITY } from "../../domain/ladder.js";

export interface SharpEngineOptions {
  /** A render still running after this long fails with 422 render_timeout (sharp's own timeout); default 30 s. */
  renderTimeoutMs?: number;
  /** AVIF encoder effort 0 (fastest) .. 9; default 3, since AVIF is rendered on request. */
  avifEffort?: number;
  /** Bounds renders and descriptions, with the process's other media work; default its own, one slot per CPU. */
  budget?: CpuBudget;
  /** Decodes HEIC (libheif on worker threads); without it HEIC answers transform_unsupported. */
  heif?: HeifDecoder;
}

/**
 * Bump the leading `p<N>` whenever the pipeline's output changes for the same recipe; the
 * sharp and libvips versions change it on every engine upgrade. Either way every variant
 * cache key changes, so no stale rendering is ever served.
 */
export const PROCESSOR_VERSION = `p2-sharp${sharp.versions.sharp}-vips${sharp.versions.vips}`;

/**
 * Types this engine decodes. HEIC only with a HEIF decoder (sharp's libvips has no HEVC
 * decoder: libheif decodes, libvips does the rest); not PDF or video (their engines), nor
 * BMP (sharp's prebuilt libvips has no loader).
 */
const RENDERABLE = new Set(["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif", "image/tiff", "image/svg+xml"]);
const HEIF_TYPES = new Set(["image/heic", "image/heif"]);

export function createSharpEngine(options: SharpEngineOptions = {}): ImageEngine {
  configureSharp();
  const avifEffort = options.avifEffort ?? 3;
  if (!Number.isInteger(avifEffort) || avifEffort < 0 || avifEffort > 9) {
    throw new RangeError(`avifEffort must be an integer from 0 to 9, got ${avifEffort}`);
  }
  const budget = options.budget ?? createCpuBudget({ slots: availableParallelism() });
  // sharp counts whole seconds, and 0 would mean "no limit".
  const timeoutSeconds = Math.max(1, Math.ceil((options.renderTimeoutMs ?? 30_000) / 1000));
  const { heif } = options;
  const canRender = (contentType: string) => {
    const type = normaliseType(contentType);
    return RENDERABLE.has(type) || (heif !== undefined && HEIF_TYPES.has(type));
  };

  return {
    processorVersion: PROCESSOR_VERSION,
    canRender,
    // async so that a refusal is a rejected promise like every other failure, never a throw.
    render: async (source, recipe, limits, slot) => {
      assertRenderable(canRender, source.contentType);
      return budget.run(() => renderImage(source, recipe, limits, { avifEffort, timeoutSeconds, heif }), { within: slot, patient: true });
    },
    renderIntermediate: async (source, rung, limits, slot) => {
      assertRenderable(canRender, source.contentType);
      const recipe = { w: rung, h: rung, fit: "inside", fmt: "jpeg-or-png", q: RUNG_QUALITY } as const;
      return budget.run(() => renderImage(source, recipe, limits, { avifEffort, timeoutSeconds, intermediate: true, heif }), { within: slot, patient: true });
    },
    inspect: async (source) => {
      assertRenderable(canRender, source.contentType);
      return inspectImage(source);
    },
    // Descriptions come from background jobs: they wait for a slot, never refused.
    describe: async (source, limits) => {
      assertRenderable(canRender, source.contentType);
      return budget.run(() => describeImage(source, limits, heif), { patient: true });
    },
  };
}

function assertRenderable(canRender: (type: string) => boolean, contentType: string): void {
  if (!canRender(contentType)) {
    throw new AppError("transform_unsupported", `${contentType || "this type"} cannot be rendered as an image`,
      { contentType });
  }
}
