import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { AppError } from "../../domain/errors.js";
import { storyboardLayout, type StoryboardLayout, type StoryboardSpec } from "../../domain/storyboard.js";
import type { CpuBudget, CpuSlot } from "../../ports/cpu-budget.js";
import type { ProbeSource } from "../../ports/media-probe.js";
import type { StoryboardLimits, StoryboardSource, StoryboardSprite } from "../../ports/storyboard-source.js";
import { factsFromFfprobe } from "./ffprobe-facts.js";
import { withLocalFile } from "./local-file.js";
import type { ToolResult } from "./run-tool.js";
import { runVideoTool, toolFailed, undecodable } from "./tool-errors.js";

export interface StoryboardOptions {
  /** The ffmpeg executable. Default "ffmpeg"; ffprobe beside it (same directory, or PATH for a bare name). */
  binary?: string;
  ffprobeBinary?: string;
  /** Each tool run is killed after this long. Default 60 s. */
  timeoutMs?: number;
  /** The process's CPU budget: one slot for the whole sprite. */
  budget: CpuBudget;
  tempDir?: string;
}

const PROBE_STDOUT_BYTES = 8 * 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase();
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined);

/**
 * The filter graph: input i is the video seeked to cue i's time (input seeking: a keyframe
 * jump, then decoding up to the time, so a long film costs N short decodes, not one full
 * one); one frame of each, scaled to the tile, concatenated and tiled into one image.
 * ffmpeg applies each input's display matrix first, so phone videos come out upright.
 */
export function storyboardArgs(input: string, layout: StoryboardLayout): string[] {
  const inputs: string[] = [];
  const chains: string[] = [];
  layout.cues.forEach((cue, i) => {
    inputs.push("-ss", cue.at.toFixed(3), "-i", input);
    chains.push(`[${i}:v:0]trim=end_frame=1,setpts=PTS-STARTPTS,scale=${layout.tileWidth}:${layout.tileHeight}:flags=bicubic,setsar=1,format=rgb24[v${i}]`);
  });
  const joined = layout.cues.map((_, i) => `[v${i}]`).join("");
  const graph = `${chains.join(";")};${joined}concat=n=${layout.frames}:v=1:a=0,tile=${layout.columns}x${layout.rows}[out]`;
  return [
    "-v", "error", "-nostdin", "-protocol_whitelist", "file",
    ...inputs,
    "-filter_complex", graph, "-map", "[out]",
    "-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "pipe:1",
  ];
}

/**
 * Storyboard sprites through Debian's ffmpeg (see PLATFORM.md): ffprobe reads the
 * displayed size, duration and frame rate; the domain lays out the grid; one ffmpeg run
 * draws every tile. Missing tools answer `503 dependency_down`, like posters.
 */
export function createStoryboardSource(options: StoryboardOptions): StoryboardSource {
  const binary = options.binary ?? "ffmpeg";
  const ffprobe = options.ffprobeBinary
    ?? (binary.includes("/") ? join(dirname(binary), basename(binary).replace(/ffmpeg/, "ffprobe")) : "ffprobe");
  const timeoutMs = options.timeoutMs ?? 60_000;
  const tempDir = options.tempDir ?? tmpdir();

  async function run(tool: string, args: readonly string[], maxStdoutBytes: number, signal?: AbortSignal): Promise<ToolResult> {
    return runVideoTool(tool, args, { timeoutMs, maxStdoutBytes, ...(signal ? { signal } : {}) }, "video storyboards");
  }

  function failed(tool: string, result: ToolResult): AppError {
    return toolFailed(tool, result, timeoutMs);
  }

  async function make(path: string, spec: StoryboardSpec, limits: StoryboardLimits, signal?: AbortSignal): Promise<StoryboardSprite> {
    // `file:` keeps ':' or a leading '-' in the path from meaning a protocol or an option.
    const input = `file:${path}`;
    const probed = await run(ffprobe, [
      "-v", "error", "-protocol_whitelist", "file", "-print_format", "json", "-show_format", "-show_streams", "-i", input,
    ], PROBE_STDOUT_BYTES, signal);
    if (probed.exitCode !== 0 || probed.timedOut || probed.stdoutOverflow) throw failed("ffprobe", probed);
    let parsed: unknown;
    try {
      parsed = JSON.parse(probed.stdout.toString("utf8"));
    } catch {
      throw undecodable("ffprobe", "output is not JSON", probed);
    }
    const { meta, hasVideo } = factsFromFfprobe(parsed);
    const width = num(meta.width);
    const height = num(meta.height);
    const duration = num(meta.duration);
    if (!hasVideo || width === undefined || height === undefined || duration === undefined) {
      throw undecodable("ffprobe", "no video stream with a size and a duration", probed);
    }
    if (width * height > limits.maxPixels) {
      throw new AppError("pixel_limit_exceeded", `the video frame (${width}x${height}) exceeds the ${limits.maxPixels}-pixel limit`, {
        width, height, maxPixels: limits.maxPixels,
      });
    }
    const fps = num(meta.frameRate);
    const layout = storyboardLayout(spec, { width, height, duration, ...(fps !== undefined ? { fps } : {}) }, limits.maxOutputPixels);
    // A PNG of the sprite: at most 3 bytes a pixel plus headers.
    const maxStdoutBytes = layout.width * layout.height * 4 + 1024 * 1024;
    const result = await run(binary, storyboardArgs(input, layout), maxStdoutBytes, signal);
    if (result.exitCode !== 0 || result.timedOut || result.stdoutOverflow) throw failed("ffmpeg", result);
    if (!(result.stdout.length > 8 && result.stdout.subarray(0, 8).equals(PNG_SIGNATURE))) {
      throw undecodable("ffmpeg", "no frame could be decoded", result);
    }
    return { png: result.stdout, layout };
  }

  return {
    handles: (contentType) => mediaType(contentType).startsWith("video/"),
    sprite(source: ProbeSource, spec: StoryboardSpec, limits: StoryboardLimits, signal?: AbortSignal, slot?: CpuSlot) {
      return options.budget.run(() => withLocalFile(source, tempDir, (path) => make(path, spec, limits, signal)),
        { ...(signal ? { signal } : {}), ...(slot ? { within: slot } : {}), patient: true });
    },
  };
}
