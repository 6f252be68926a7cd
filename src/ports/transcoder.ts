import type { Readable } from "node:stream";

/**
 * What the HLS use case needs from a video transcoder: a scratch workspace per run (the
 * adapter owns the temporary files and removes them), a ladder written into it, and the
 * tool's availability for readiness and for refusing work that could never succeed.
 */
export interface TranscodeSource {
  /** A local, seekable file holding the video. */
  path: string;
  read(): Promise<Buffer>;
  /** Display size (after rotation), as ffprobe facts give it. */
  width: number;
  height: number;
  /** Seconds. */
  duration: number;
  /** Frames per second (default 30). */
  frameRate?: number;
  /** Whether the source has an audio stream (default true). */
  hasAudio?: boolean;
}

export interface ToolStatus {
  /** The tool's name, e.g. `ffmpeg`. */
  name: string;
  available: boolean;
  version?: string;
  reason?: string;
}

export interface TranscodeWorkspace {
  /** Copies `body` into the workspace (owner-only) and returns its path: ffprobe and ffmpeg need a seekable file. */
  localCopy(body: Readable, signal?: AbortSignal): Promise<string>;
  /**
   * Writes every rung into the workspace; `files` are relative names with `master.m3u8`
   * last. AppError `undecodable_media`, `output_too_large` and `pixel_limit_exceeded` are
   * verdicts on the source itself; other errors may succeed on a retry.
   */
  transcode(source: TranscodeSource, signal?: AbortSignal): Promise<{ files: readonly string[] }>;
  /** One file `transcode` listed. */
  read(name: string): Promise<Buffer>;
}

export interface Transcoder {
  /** Runs `use` in a fresh workspace, removed on every path out. */
  withWorkspace<T>(use: (workspace: TranscodeWorkspace) => Promise<T>): Promise<T>;
  status(): Promise<ToolStatus>;
}
