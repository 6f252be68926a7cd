/**
 * Rewrites an original into what non-owners receive, without touching what it shows:
 * location metadata removed (DESIGN §10 "Location privacy"), scripts removed from SVG.
 * A scan of the container, never a pixel decode.
 */
export interface OriginalScrubber {
  /** Whether this content type is one the scrubber reads (others are served as they are). */
  handles(contentType: string): boolean;
  /** Suffix of the entity tag of rewritten bytes (`<sha256>-<suffix>`). */
  readonly etagSuffix: string;
  /** The bytes to serve to non-owners; `removed` is false (and `bytes` the input) when there was nothing to remove. */
  scrub(original: Buffer): Promise<{ bytes: Buffer; removed: boolean }>;
}
