import type { Step } from "./step.js";

/** Unsharp mask on the L channel; `sharpen` is the sigma (0.5..10, `sharpen=1` when bare). */
export const sharpen: Step = {
  name: "sharpen",
  apply: (image, plan) => plan.sharpen === undefined ? image : image.sharpen({ sigma: plan.sharpen }),
};
