import type { Step } from "./step.js";

/**
 * Applies the EXIF Orientation (all 8, mirrored ones included) and drops the tag. sharp then
 * reads resize targets as if the image were already upright, and the later explicit
 * rotate/flip/flop happen after it whatever the call order.
 */
export const autoOrient: Step = {
  name: "auto-orient",
  apply: (image) => image.autoOrient(),
};
