import type { Step } from "./step.js";

/**
 * `brightness` and `saturation` through sharp's modulate (LCh lightness and chroma
 * multipliers); `contrast` as a linear stretch around mid-grey, `a·x + 128·(1 − a)`, which
 * sharp applies to the colour channels and not to alpha. Applied after the resize: the
 * operations are per pixel, so they cost the output's pixels, not the source's.
 */
export const tone: Step = {
  name: "tone",
  apply: (image, { tone: t }) => {
    if (t === undefined) return image;
    let out = image;
    if (t.brightness !== undefined || t.saturation !== undefined) {
      out = out.modulate({ ...(t.brightness !== undefined ? { brightness: t.brightness } : {}),
        ...(t.saturation !== undefined ? { saturation: t.saturation } : {}) });
    }
    if (t.contrast !== undefined) out = out.linear(t.contrast, 128 * (1 - t.contrast));
    return out;
  },
};
