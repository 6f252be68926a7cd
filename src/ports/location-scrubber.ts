/**
 * Removes location metadata (GPS coordinates) from an original's bytes without touching
 * its pixels (DESIGN §10 "Location privacy"). Pure and synchronous: a linear scan of the
 * container's metadata, no decoding.
 */
export interface LocationScrubber {
  /** Whether this content type is one the scrubber reads (others are served as they are). */
  handles(contentType: string): boolean;
  /** The bytes to serve to non-owners; `removed` is false (and `bytes` the input) when there was nothing to remove. */
  scrub(original: Buffer): { bytes: Buffer; removed: boolean };
}
