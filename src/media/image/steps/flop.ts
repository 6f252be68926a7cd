import type { Step } from "./step.js";

/** Mirror left-right (sharp's `flop`). */
export const flop: Step = {
  name: "flop",
  apply: (image, plan) => plan.flop ? image.flop() : image,
};
