import type { Step } from "./step.js";

/**
 * `crop`: keeps a rectangle of the upright source. Recorded before resize(), so sharp
 * extracts first (its pre-resize extraction) and the resize works on the rectangle.
 */
export const crop: Step = {
  name: "crop",
  apply: (image, plan) => plan.crop === undefined ? image : image.extract(plan.crop),
};
