import type { Step } from "./step.js";

/** Mirror top-bottom (sharp's `flip`). */
export const flip: Step = {
  name: "flip",
  apply: (image, plan) => plan.flip ? image.flip() : image,
};
