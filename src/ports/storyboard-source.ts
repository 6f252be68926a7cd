import type { StoryboardLayout, StoryboardSpec } from "../domain/storyboard.js";
import type { CpuSlot } from "./cpu-budget.js";
import type { ProbeSource } from "./media-probe.js";

export interface StoryboardLimits {
  /** Source frames beyond this many pixels are refused before decoding. */
  maxPixels: number;
  /** Sprites beyond this many pixels are refused before decoding. */
  maxOutputPixels: number;
}

export interface StoryboardSprite {
  /** The sprite as PNG: layout.width × layout.height, tiles left to right, top to bottom. */
  png: Buffer;
  layout: StoryboardLayout;
}

/**
 * Makes a video's storyboard sprite: reads the video's displayed size and duration, lays
 * the grid out (domain `storyboardLayout`) and draws each tile from its frame.
 * Implementation: `createStoryboardSource` (ffmpeg).
 */
export interface StoryboardSource {
  handles(contentType: string): boolean;
  /**
   * AppError `undecodable_media`, `pixel_limit_exceeded`, `output_too_large` for the
   * source's own faults; `dependency_down` when the tool is missing. Runs in one slot of
   * the CPU budget: `slot` when the caller holds one.
   */
  sprite(source: ProbeSource, spec: StoryboardSpec, limits: StoryboardLimits, signal?: AbortSignal, slot?: CpuSlot): Promise<StoryboardSprite>;
}
