import type { Step } from "./step.js";

/**
 * Explicit rotation, after orientation. Called after resize() so sharp rotates the small
 * result rather than the full-size source; w/h therefore describe the image before this
 * rotation (plan.ts swaps the expected size for 90/270).
 */
export const rotate: Step = {
  name: "rotate",
  apply: (image, plan) => plan.rotate === undefined ? image : image.rotate(plan.rotate),
};
