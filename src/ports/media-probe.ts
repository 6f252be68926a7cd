import type { ToolStatus } from "./transcoder.js";
import type { AssetMeta } from "./repos.js";

/** What a probe needs to read a source (the same shape as the image engine's source). */
export interface ProbeSource {
  /** Local file path when the store can give one (tools read it directly, with seeking), else undefined. */
  path?: string;
  /** Reads the whole object into memory (used when there is no path). */
  read(): Promise<Buffer>;
  /** The sniffed type of the source. */
  contentType: string;
}

/**
 * Describes non-image media (video, audio, documents) for the asset manifest.
 * Implementations: `createFfprobe` (video/*, audio/*), `createPdfProbe` (application/pdf).
 */
export interface MediaProbe {
  /** The content types this probe describes. */
  handles(contentType: string): boolean;
  /**
   * Facts for the manifest. Throws AppError("undecodable_media") for content that cannot be
   * read. When the tool itself is missing it does not throw: it returns
   * `{ mediaFactsUnavailable: "<why>" }`, so the asset still becomes ready and the manifest
   * says why it has no facts.
   */
  describe(source: ProbeSource): Promise<AssetMeta>;
  /** For readiness: tool name and version, or why it is unavailable. */
  status(): Promise<ToolStatus>;
}
