import type { Step } from "./step.js";

/** Gaussian blur; `blur` is the sigma (0.3..100, validated by the recipe parser). */
export const blur: Step = {
  name: "blur",
  apply: (image, plan) => plan.blur === undefined ? image : image.blur(plan.blur),
};
