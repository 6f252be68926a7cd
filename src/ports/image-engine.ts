import type { SourceFacts } from "../domain/ladder.js";
import type { OutputFormat, Recipe } from "../domain/recipe.js";
import type { CpuSlot } from "./cpu-budget.js";
import type { AssetMeta } from "./repos.js";

/** What the engine needs to read a source. */
export interface ImageSource {
  /** Local file path when the store can give one (libvips reads it directly), else undefined. */
  path?: string;
  /** Reads the whole object into memory (used when there is no path). */
  read(): Promise<Buffer>;
  /** The sniffed type of the source. */
  contentType: string;
  /** A rung of the intermediate ladder: decoded without JPEG's fast shrink-on-load, whose softness it would add to its own. */
  rung?: boolean;
}

export interface RenderLimits {
  maxInputPixels: number;
  maxOutputPixels: number;
}

export interface RenderedImage {
  data: Buffer;
  contentType: string;
  format: OutputFormat;
  width: number;
  height: number;
  /** `max_bytes`: the quality the search chose (lossy formats). */
  quality?: number;
}

/**
 * Turns a source and a canonical recipe into bytes. Errors are AppErrors:
 * `pixel_limit_exceeded` (decided from the header, before decoding), `undecodable_media`,
 * `output_too_large`, `transform_unsupported`.
 */
export interface ImageEngine {
  /** Identifies the engine's output so a change of engine or pipeline changes cache keys. */
  readonly processorVersion: string;
  canRender(contentType: string): boolean;
  /** Runs in one slot of the CPU budget: `slot` when the caller holds one, else a fresh one. */
  render(source: ImageSource, recipe: Recipe, limits: RenderLimits, slot?: CpuSlot): Promise<RenderedImage>;
  /**
   * A rung of the intermediate ladder (domain/ladder.ts): the long side scaled to `rung`,
   * upright, sRGB, stripped; JPEG at RUNG_QUALITY without chroma subsampling, PNG when the
   * source has alpha.
   */
  renderIntermediate(source: ImageSource, rung: number, limits: RenderLimits, slot?: CpuSlot): Promise<RenderedImage>;
  /** Displayed size, format, alpha and frames from the header alone (nothing decoded). */
  inspect(source: ImageSource): Promise<SourceFacts>;
  /**
   * Facts for the manifest: width/height as displayed, format, orientation, alpha,
   * animation, colour space, ICC description, EXIF subset. Decodes (a small thumbnail)
   * to prove the image is readable unless it exceeds `maxInputPixels`, and from that
   * thumbnail adds `blurhash`, `dominantColor` (`#rrggbb`) and `phash` (64-bit
   * perceptual hash, 16 hex digits: domain/phash.ts).
   */
  describe(source: ImageSource, limits: RenderLimits): Promise<AssetMeta>;
}
