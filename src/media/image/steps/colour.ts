import type { Step } from "./step.js";

/**
 * Output is sRGB. By default sharp already converts through the embedded ICC profile
 * (CMYK without one through its default CMYK profile) and grey stays grey-looking; this
 * step only adds the explicit conversion where the plan found sharp's default wrong.
 */
export const colour: Step = {
  name: "colour",
  apply: (image, { colour: c }) => c.toSrgb === undefined ? image : image.withIccProfile("srgb", { attach: c.toSrgb.attach }),
};
