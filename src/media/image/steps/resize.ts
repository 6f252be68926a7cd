import type { Step } from "./step.js";

/**
 * w/h/fit/position. `center`..`northwest` are gravities, `entropy`/`attention` sharp's
 * smart-crop strategies; the names match sharp's so they pass through unchanged.
 */
export const resize: Step = {
  name: "resize",
  apply: (image, { resize: r }) => r === undefined ? image : image.resize({
    ...(r.width !== undefined ? { width: r.width } : {}),
    ...(r.height !== undefined ? { height: r.height } : {}),
    fit: r.fit,
    position: r.position,
    withoutEnlargement: r.withoutEnlargement,
    background: r.background,
    ...(r.fastShrinkOnLoad ? {} : { fastShrinkOnLoad: false }),
  }),
};
