import { createHash } from "node:crypto";
import { AppError, InvalidParameterError } from "./errors.js";
import { DELIVERY_PARAMS, type Query } from "./recipe.js";
import { signUrl, type UrlSigningKeys } from "./signed-url.js";

/**
 * Video storyboards (scrub previews): N frames, evenly spread over the video, in one sprite
 * laid out as a grid, and a WebVTT file whose cues point at each frame's rectangle
 * (`storyboard.jpg#xywh=x,y,w,h`, the Media Fragments form players such as Video.js,
 * Vidstack and JW Player read). The layout is decided here, from the request and the
 * video's displayed size and duration, so the sprite and the cues always agree.
 */

export interface StoryboardSpec {
  /** Number of frames (`n`); absent: chosen from the duration. */
  frames?: number;
  /** Width of one tile in pixels (`w`); absent: 160 (never wider than the video). */
  tileWidth?: number;
  /** Tiles per row (`cols`); absent: a near-square grid. */
  columns?: number;
}

export const STORYBOARD_LIMITS = {
  frames: { min: 1, max: 100 },
  tileWidth: { min: 16, max: 640 },
  columns: { min: 1, max: 100 },
} as const;

export const DEFAULT_TILE_WIDTH = 160;
/** Without `n`: one frame per ~10 s, at least 10 and at most 100. */
const SECONDS_PER_FRAME = 10;
const DEFAULT_MIN_FRAMES = 10;

/** Bumped when the sprite or cue layout changes, so old cached storyboards are not reused. */
export const STORYBOARD_VERSION = "sb1";

const PARAMS: Readonly<Record<string, keyof StoryboardSpec>> = { n: "frames", w: "tileWidth", cols: "columns" };

/** `n`, `w`, `cols`, all optional; anything else (but `exp`, `sig`, `download`) is a 400 naming it. */
export function parseStoryboardQuery(query: Query): StoryboardSpec {
  const spec: StoryboardSpec = {};
  for (const [key, value] of Object.entries(query)) {
    if (DELIVERY_PARAMS.has(key) || value === undefined) continue;
    const field = Object.hasOwn(PARAMS, key) ? PARAMS[key] : undefined;
    if (!field) throw new InvalidParameterError(key, `unknown storyboard parameter '${key}' (n, w and cols are known)`);
    if (Array.isArray(value)) throw new InvalidParameterError(key, `parameter '${key}' is given more than once`);
    const { min, max } = STORYBOARD_LIMITS[field];
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidParameterError(key, `${key} must be an integer from ${min} to ${max}`);
    }
    spec[field] = Number(value);
  }
  return spec;
}

/** The request's parameters in a fixed order (`n=20&w=200`): cue URLs carry it to the sprite. */
export function storyboardQuery(spec: StoryboardSpec): string {
  const parts: string[] = [];
  if (spec.frames !== undefined) parts.push(`n=${spec.frames}`);
  if (spec.tileWidth !== undefined) parts.push(`w=${spec.tileWidth}`);
  if (spec.columns !== undefined) parts.push(`cols=${spec.columns}`);
  return parts.join("&");
}

/** The canonical recipe stored with the variant rows (`storyboard.jpg?n=20`). */
export function storyboardRecipe(spec: StoryboardSpec, kind: "jpg" | "vtt"): string {
  const query = storyboardQuery(spec);
  return `storyboard.${kind}${query ? `?${query}` : ""}`;
}

/** sha256(contentKey + ":" + recipe + ":" + processorVersion), like any variant's key. */
export function storyboardCacheKey(contentKey: string, spec: StoryboardSpec, kind: "jpg" | "vtt", processorVersion: string): string {
  return createHash("sha256")
    .update(`${contentKey}:${storyboardRecipe(spec, kind)}:${processorVersion}+${STORYBOARD_VERSION}`)
    .digest("hex");
}

export interface StoryboardVideo {
  /** Displayed size (after rotation). */
  width: number;
  height: number;
  /** Seconds. */
  duration: number;
  /** Frames per second, when known: keeps the last frame's time before the end. */
  fps?: number;
}

export interface StoryboardCue {
  /** Seconds: the time range this tile stands for. */
  start: number;
  end: number;
  /** Seconds: the frame shown (the middle of the range). */
  at: number;
  x: number;
  y: number;
}

export interface StoryboardLayout {
  frames: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  /** Sprite size: columns × tileWidth by rows × tileHeight. */
  width: number;
  height: number;
  duration: number;
  cues: readonly StoryboardCue[];
}

const ms = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * Frames cover the duration in equal ranges, each shown by the frame at its middle (the
 * first frame of many videos is black). A tile is never wider than the video; its height
 * keeps the displayed aspect ratio. Sprites beyond `maxOutputPixels` are refused (`422
 * output_too_large`) before anything is decoded.
 */
export function storyboardLayout(spec: StoryboardSpec, video: StoryboardVideo, maxOutputPixels: number): StoryboardLayout {
  if (!(video.width > 0 && video.height > 0 && video.duration > 0)) {
    throw new AppError("undecodable_media", "the video has no size or duration to make a storyboard from");
  }
  const frames = spec.frames ?? Math.min(STORYBOARD_LIMITS.frames.max, Math.max(DEFAULT_MIN_FRAMES, Math.ceil(video.duration / SECONDS_PER_FRAME)));
  const tileWidth = Math.min(spec.tileWidth ?? DEFAULT_TILE_WIDTH, Math.round(video.width));
  const tileHeight = Math.max(1, Math.round((tileWidth * video.height) / video.width));
  const columns = Math.min(frames, spec.columns ?? Math.ceil(Math.sqrt(frames)));
  const rows = Math.ceil(frames / columns);
  const width = columns * tileWidth;
  const height = rows * tileHeight;
  if (width * height > maxOutputPixels) {
    throw new AppError("output_too_large", `the storyboard (${width}x${height}) would exceed the ${maxOutputPixels}-pixel output limit`, {
      width, height, maxOutputPixels,
    });
  }
  // Input seeking to a last frame's exact start decodes nothing: stay 1.5 frames before the end.
  const latest = Math.max(0, video.duration - 1.5 / (video.fps ?? 25));
  const step = video.duration / frames;
  const cues: StoryboardCue[] = [];
  for (let i = 0; i < frames; i++) {
    cues.push({
      start: ms(i * step),
      end: ms(i === frames - 1 ? video.duration : (i + 1) * step),
      at: ms(Math.min(latest, (i + 0.5) * step)),
      x: (i % columns) * tileWidth,
      y: Math.floor(i / columns) * tileHeight,
    });
  }
  return { frames, columns, rows, tileWidth, tileHeight, width, height, duration: video.duration, cues };
}

/** `HH:MM:SS.mmm`, as WebVTT timestamps are written. */
export function vttTimestamp(seconds: number): string {
  const total = Math.round(seconds * 1000);
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(total % 1000, 3)}`;
}

/**
 * The WebVTT file: one cue per tile, its text the sprite's URI with the tile's rectangle.
 * `spriteUri` is relative (`storyboard.jpg?n=20`), so it resolves beside the VTT's URL.
 */
export function storyboardVtt(layout: StoryboardLayout, spriteUri: string): string {
  const lines = ["WEBVTT", ""];
  for (const cue of layout.cues) {
    lines.push(`${vttTimestamp(cue.start)} --> ${vttTimestamp(cue.end)}`);
    lines.push(`${spriteUri}#xywh=${cue.x},${cue.y},${layout.tileWidth},${layout.tileHeight}`);
    lines.push("");
  }
  return lines.join("\n");
}

/**
 * A storyboard VTT served through a signed URL: its sprite URIs signed with the same
 * expiry, so a player that may load the cues may load the sprite too.
 */
export function signStoryboardVtt(text: string, vttPath: string, expiresAt: number, signing: UrlSigningKeys): string {
  const directory = vttPath.slice(0, vttPath.lastIndexOf("/") + 1);
  return text.replace(/^(storyboard\.jpg)(\?[^#\s]*)?(#xywh=[\d,]+)$/gm, (_, name: string, query: string | undefined, fragment: string) => {
    return `${signUrl(`${directory}${name}`, (query ?? "").replace(/^\?/, ""), expiresAt, signing)}${fragment}`;
  });
}
