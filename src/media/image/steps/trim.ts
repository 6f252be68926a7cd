import type { Step } from "./step.js";

/**
 * `trim`: removes the border whose colour is within the threshold of the top-left pixel's.
 * Recorded before resize(), so sharp trims the upright source and resizes what remains.
 * An image that is all border is left as it is (sharp's own rule).
 */
export const trim: Step = {
  name: "trim",
  apply: (image, plan) => plan.trim === undefined ? image : image.trim({ threshold: plan.trim }),
};
