import type { Sharp } from "sharp";
import type { RenderPlan } from "./plan.js";
import type { EngineInput } from "./source-input.js";
import { autoOrient } from "./steps/auto-orient.js";
import { background } from "./steps/background.js";
import { blur } from "./steps/blur.js";
import { colour } from "./steps/colour.js";
import { crop } from "./steps/crop.js";
import { flip } from "./steps/flip.js";
import { flop } from "./steps/flop.js";
import { load } from "./steps/load.js";
import { output } from "./steps/output.js";
import { resize } from "./steps/resize.js";
import { rotate } from "./steps/rotate.js";
import { sharpen } from "./steps/sharpen.js";
import { tone } from "./steps/tone.js";
import { trim } from "./steps/trim.js";
import type { Step } from "./steps/step.js";

/**
 * The order is fixed here, never by the URL: `?rotate=90&w=300` and `?w=300&rotate=90` are
 * the same recipe and must be the same image. sharp also has its own internal order for
 * the operations it records; this list is the order in which they mean something to us.
 */
export const STEPS: readonly Step[] = [autoOrient, crop, trim, resize, rotate, flip, flop, blur, sharpen, tone, background, colour, output];

/** Every step but the encoder: what a byte budget (byte-budget.ts) encodes several times. */
export const PIXEL_STEPS: readonly Step[] = STEPS.filter((step) => step !== output);

/** The pipeline up to the encoder: decoded once, then encoded at each quality tried. */
export function buildPixels(input: EngineInput, plan: RenderPlan): Sharp {
  return PIXEL_STEPS.reduce((image, step) => step.apply(image, plan), load(input, plan));
}

/** Builds the sharp instance for a plan: load, then every step. Nothing is decoded yet. */
export function buildPipeline(input: EngineInput, plan: RenderPlan): Sharp {
  return STEPS.reduce((image, step) => step.apply(image, plan), load(input, plan));
}
