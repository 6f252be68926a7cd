import type { Sharp } from "sharp";
import type { RenderPlan } from "../plan.js";
import type { Step } from "./step.js";

/**
 * The encoder and what survives into the file. sharp writes no metadata unless asked, so
 * the default (strip) output has no EXIF (GPS, thumbnail), XMP, IPTC or ICC; `strip=false`
 * keeps them all, orientation already applied and its tag removed.
 */
export const output: Step = {
  name: "output",
  apply: (image, plan) => {
    const encoded = encode(image, plan.output);
    return plan.output.keepMetadata ? encoded.keepMetadata() : encoded;
  },
};

export function encode(image: Sharp, o: Pick<RenderPlan["output"], "format" | "quality" | "avifEffort" | "fullChroma">): Sharp {
  switch (o.format) {
    case "jpeg":
      // mozjpeg off: its trellis quantisation costs several times the encode time.
      return image.jpeg({ quality: o.quality, mozjpeg: false, ...(o.fullChroma ? { chromaSubsampling: "4:4:4" } : {}) });
    case "webp":
      return image.webp({ quality: o.quality });
    case "avif":
      // AVIF encoding dominates the render time; effort is configurable (PLATFORM.md).
      return image.avif({ quality: o.quality, effort: o.avifEffort });
    case "png":
      // PNG is lossless: `q` has nothing to change.
      return image.png({ compressionLevel: 6 });
    case "gif":
      return image.gif();
  }
}
