import type { CpuSlot } from "./cpu-budget.js";
import type { ProbeSource } from "./media-probe.js";

export interface FrameRequest {
  /** seconds, videos */
  t?: number;
  /** 1-based, PDFs */
  page?: number;
  /** a hint: the output width the caller will resize to, so rasterisers can pick a sensible resolution */
  targetWidth?: number;
  maxPixels: number;
}

/**
 * Turns non-image media into a still image the image pipeline can transform.
 * Implementations: `createPosterSource` (video/*), `createPdfPageSource` (application/pdf).
 */
export interface FrameSource {
  handles(contentType: string): boolean;
  /**
   * A still image (PNG bytes) of the requested frame/page, upright. Runs in one slot of the
   * CPU budget: `slot` when the caller holds one, else a fresh one.
   */
  frame(source: ProbeSource, request: FrameRequest, signal?: AbortSignal, slot?: CpuSlot): Promise<Buffer>;
}
