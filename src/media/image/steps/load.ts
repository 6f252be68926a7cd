import sharp, { type Sharp } from "sharp";
import type { RenderPlan } from "../plan.js";
import type { EngineInput } from "../source-input.js";

/**
 * Opens the source. `failOn: "error"` makes truncated or corrupt data an error instead of
 * a half-grey image (libjpeg otherwise pads the missing rows), while tolerating the
 * harmless warnings real cameras produce (e.g. extraneous bytes before a marker), which
 * sharp's default "warning" would reject.
 */
export function load(input: EngineInput, plan: RenderPlan): Sharp {
  return sharp(input, {
    failOn: "error",
    limitInputPixels: plan.load.limitInputPixels,
    ...(plan.load.animated ? { animated: true } : { page: plan.load.pageIndex }),
  });
}
