import { availableParallelism, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { CpuBudget, CpuSlot } from "../../ports/cpu-budget.js";
import type { FrameRequest, FrameSource } from "../../ports/frame-source.js";
import type { ProbeSource } from "../../ports/media-probe.js";
import { createCpuBudget } from "../cpu-budget.js";
import { withLocalFile } from "./local-file.js";
import type { ToolResult } from "./run-tool.js";
import { runVideoTool, toolFailed, undecodable } from "./tool-errors.js";

export interface PosterOptions {
  /** The ffmpeg executable: a name looked up on PATH, or a path. Default "ffmpeg". */
  binary?: string;
  /**
   * The ffprobe executable (duration, frame rate and size, read before decoding). Default:
   * "ffprobe" beside `binary` (same directory, or PATH when `binary` is a bare name).
   */
  ffprobeBinary?: string;
  /** Each tool run is killed after this long. Default 30 s (a poster normally takes ~0.1 s). */
  timeoutMs?: number;
  /** Bounds frame extraction, with the process's other media work; default its own, one slot per CPU. */
  budget?: CpuBudget;
  /** Where a source without a local path is copied. Default: the OS temp dir. */
  tempDir?: string;
}

const PROBE_STDOUT_BYTES = 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Used for "one frame before the end" when the stream does not say its frame rate. */
const FALLBACK_FPS = 25;

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase();


interface VideoFacts {
  width: number;
  height: number;
  /** Seconds, when the container or stream says. */
  duration?: number;
  fps?: number;
}

const positive = (value: unknown): number | undefined => {
  const n = typeof value === "string" ? Number(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

function parseRate(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const [num, den] = value.split("/").map(Number);
  if (num === undefined || !Number.isFinite(num)) return undefined;
  const rate = den === undefined ? num : den > 0 ? num / den : NaN;
  return Number.isFinite(rate) && rate > 0 && rate <= 1000 ? rate : undefined;
}

function factsOf(parsed: unknown): VideoFacts | undefined {
  const root = parsed as { streams?: Array<Record<string, unknown>>; format?: Record<string, unknown> } | null;
  const stream = root?.streams?.[0];
  const width = positive(stream?.width);
  const height = positive(stream?.height);
  if (!stream || width === undefined || height === undefined) return undefined;
  // The video stream's own duration first: an audio track may run longer than the picture.
  const duration = positive(stream.duration) ?? positive(root?.format?.duration);
  const fps = parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate);
  return { width, height, ...(duration !== undefined ? { duration } : {}), ...(fps !== undefined ? { fps } : {}) };
}

/** Whole milliseconds, rounded down, as ffmpeg's -ss wants them. */
const seconds = (t: number) => (Math.floor(t * 1000) / 1000).toFixed(3);

/**
 * Poster frames through ffmpeg (Debian's; see PLATFORM.md): one PNG of the frame at `t`,
 * upright (ffmpeg applies the display matrix by default). Before decoding, ffprobe reads
 * the size (refused beyond `maxPixels`), the duration (default t = 10 % of it, else 1 s)
 * and the frame rate: a `t` at or past the end is clamped to the last frame (duration
 * minus 1.5 frames, since input seeking to the last frame's exact start yields nothing).
 */
export function createPosterSource(options: PosterOptions = {}): FrameSource {
  const binary = options.binary ?? "ffmpeg";
  const ffprobe = options.ffprobeBinary
    ?? (binary.includes("/") ? join(dirname(binary), basename(binary).replace(/ffmpeg/, "ffprobe")) : "ffprobe");
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  const budget = options.budget ?? createCpuBudget({ slots: Math.max(1, availableParallelism()) });
  const tempDir = options.tempDir ?? tmpdir();

  async function run(tool: string, args: readonly string[], maxStdoutBytes: number, signal?: AbortSignal): Promise<ToolResult> {
    return runVideoTool(tool, args, { timeoutMs, maxStdoutBytes, ...(signal ? { signal } : {}) }, "video frames");
  }

  function failed(tool: string, input: string, result: ToolResult): AppError {
    // Our store lost the file or cannot read it: not the uploader's fault, so not a 422.
    if (/: (No such file or directory|Permission denied)\s*$/m.test(result.stderrTail) && result.stderrTail.includes(input)) {
      return new AppError("internal", "the stored media file could not be opened", {}, { cause: new Error(`${tool}: ${result.stderrTail}`) });
    }
    return toolFailed(tool, result, timeoutMs);
  }

  async function extract(path: string, request: FrameRequest, signal?: AbortSignal): Promise<Buffer> {
    // `file:` keeps a ':' or a leading '-' in the path from meaning a protocol or an option;
    // the whitelist keeps a playlist-like upload from making the tool fetch URLs.
    const input = `file:${path}`;
    const probed = await run(ffprobe, [
      "-v", "error", "-protocol_whitelist", "file", "-select_streams", "v:0",
      "-show_entries", "format=duration:stream=width,height,duration,avg_frame_rate,r_frame_rate",
      "-print_format", "json", "-i", input,
    ], PROBE_STDOUT_BYTES, signal);
    if (probed.exitCode !== 0 || probed.timedOut || probed.stdoutOverflow) throw failed("ffprobe", input, probed);
    let parsed: unknown;
    try {
      parsed = JSON.parse(probed.stdout.toString("utf8"));
    } catch {
      throw undecodable("ffprobe", "output is not JSON", probed);
    }
    const facts = factsOf(parsed);
    if (!facts) throw undecodable("ffprobe", "no video stream with a size", probed);
    if (facts.width * facts.height > request.maxPixels) {
      throw new AppError("pixel_limit_exceeded", `the video frame (${facts.width}x${facts.height}) exceeds the ${request.maxPixels}-pixel limit`, {
        width: facts.width, height: facts.height, maxPixels: request.maxPixels,
      });
    }

    let t = request.t ?? (facts.duration !== undefined ? facts.duration * 0.1 : 1);
    if (facts.duration !== undefined) t = Math.min(t, Math.max(0, facts.duration - 1.5 / (facts.fps ?? FALLBACK_FPS)));
    // Without a (correct) duration a late t decodes nothing: step back, then take the first frame.
    const attempts = [...new Set([seconds(t), ...(t > 1 ? [seconds(t - 1)] : []), seconds(0)])];

    // PNG of up to maxPixels; 16-bit (rgb48/rgba64) output for deep-colour video is 8 B/px.
    const maxStdoutBytes = request.maxPixels * 8 + 1024 * 1024;
    let last: ToolResult | undefined;
    for (const at of attempts) {
      const result = await run(binary, [
        "-v", "error", "-nostdin", "-protocol_whitelist", "file",
        "-ss", at, "-i", input,
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "pipe:1",
      ], maxStdoutBytes, signal);
      if (result.exitCode !== 0 || result.timedOut || result.stdoutOverflow) throw failed("ffmpeg", input, result);
      if (result.stdout.length > PNG_SIGNATURE.length && result.stdout.subarray(0, 8).equals(PNG_SIGNATURE)) return result.stdout;
      last = result;
    }
    throw undecodable("ffmpeg", "no frame could be decoded", last);
  }

  return {
    handles: (contentType) => mediaType(contentType).startsWith("video/"),

    frame(source: ProbeSource, request: FrameRequest, signal?: AbortSignal, slot?: CpuSlot) {
      if (request.t !== undefined && !(Number.isFinite(request.t) && request.t >= 0)) {
        return Promise.reject(new InvalidParameterError("t", "t must be a number of seconds, 0 or more"));
      }
      // The budget checks the signal once the slot is ours: it may have waited.
      return budget.run(() => withLocalFile(source, tempDir, (path) => extract(path, request, signal)),
        { signal, within: slot, patient: true });
    },
  };
}
