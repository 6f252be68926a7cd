import type { Step } from "./step.js";

/**
 * Merges alpha onto a colour when the plan says so. sharp's own default is black, which
 * turns transparent logos into black squares in JPEG; the plan's default is white.
 * (The `contain` padding colour travels with the resize step.)
 */
export const background: Step = {
  name: "background",
  apply: (image, plan) => plan.flatten === undefined ? image : image.flatten({ background: plan.flatten }),
};
