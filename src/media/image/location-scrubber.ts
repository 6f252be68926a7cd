import { normaliseType } from "../../domain/media-types.js";
import type { OriginalScrubber } from "../../ports/original-scrubber.js";
import { scrubLocation } from "./location-scrub.js";

/** The containers `scrubLocation` reads; anything else carries no EXIF/XMP it could find. */
const SCRUBBED = new Set(["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/avif"]);

export function createLocationScrubber(): OriginalScrubber {
  return {
    etagSuffix: "nogps",
    handles: (contentType) => SCRUBBED.has(normaliseType(contentType)),
    scrub: async (original) => {
      const { bytes, removed } = scrubLocation(original);
      return { bytes, removed };
    },
  };
}
