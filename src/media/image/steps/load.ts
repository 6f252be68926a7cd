import type { Sharp } from "sharp";
import type { RenderPlan } from "../plan.js";
import { openSharp, type EngineInput } from "../source-input.js";

/**
 * Opens the source. `failOn: "error"` makes truncated or corrupt data an error instead of
 * a half-grey image (libjpeg otherwise pads the missing rows), while tolerating the
 * harmless warnings real cameras produce (e.g. extraneous bytes before a marker), which
 * sharp's default "warning" would reject. Pixels decoded elsewhere (HEIC) open as raw.
 */
export function load(input: EngineInput, plan: RenderPlan): Sharp {
  return openSharp(input, {
    failOn: "error",
    limitInputPixels: plan.load.limitInputPixels,
    ...(plan.load.animated ? { animated: true } : { page: plan.load.pageIndex }),
  });
}
