import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { DASH_MANIFEST, dashManifest, parseRungPlaylist, type RungSegments } from "../../domain/dash.js";
import { AppError } from "../../domain/errors.js";
import { isHlsFileName, MASTER_PLAYLIST, masterPlaylist, planLadder, type Rendition } from "../../domain/hls.js";
import type { CpuBudget } from "../../ports/cpu-budget.js";
import { createCpuBudget } from "../cpu-budget.js";
import { withLocalFile } from "./local-file.js";
import { runTool, toolName, toolStatus, type ToolResult } from "./run-tool.js";
import type { ToolStatus, TranscodeSource } from "../../ports/transcoder.js";

export interface HlsTranscoderOptions {
  /** The ffmpeg executable: a name on PATH or a path. Default "ffmpeg" (Debian's; see PLATFORM.md). */
  binary?: string;
  /** ffmpeg is killed after this long. Default 30 min. */
  timeoutMs?: number;
  /** Longer sources are refused (`output_too_large`). Default 3600 s. */
  maxDurationSec?: number;
  /** Larger sources (width x height) are refused (`pixel_limit_exceeded`). Default 4096x4096. */
  maxPixels?: number;
  /**
   * Bounds transcodes, with the process's other media work (a transcode holds one slot).
   * Default its own with one slot: x264 uses every core.
   */
  budget?: CpuBudget;
  /** Where a source without a local path is copied first. Default: the OS temp dir. */
  tempDir?: string;
}

/** What the ffmpeg transcoder reads: the port's source, whose file may still need a copy. */
export type HlsSource = Omit<TranscodeSource, "path"> & {
  /** A local file when the store has one; else `read()` is copied to a temp file. */
  path?: string;
};

export interface HlsOutput {
  renditions: Rendition[];
  /** Every file written, relative to `outDir` with `/` separators; `master.m3u8` is last. */
  files: string[];
  /** Whether the rungs carry audio (the master playlist's CODECS say so too). */
  audio: boolean;
}

export interface HlsTranscoder {
  transcode(input: HlsSource, outDir: string, signal?: AbortSignal): Promise<HlsOutput>;
  /** For readiness: ffmpeg's version, or why it is unavailable. */
  status(): Promise<ToolStatus>;
}

const SEGMENT_SECONDS = 4;
/** Frame rates above this are halved or capped: nobody needs a 240 fps ladder. */
const MAX_OUTPUT_FPS = 60;
const DEFAULT_FPS = 30;
/** ffmpeg writes nothing to stdout here; anything big means something is wrong. */
const MAX_STDOUT_BYTES = 1024 * 1024;


function failed(why: string, result?: ToolResult): AppError {
  const detail = result?.stderrTail ? `${why}: ${result.stderrTail}` : why;
  return new AppError("undecodable_media", "the video could not be transcoded", {}, { cause: new Error(`ffmpeg: ${detail}`) });
}

/** The ffmpeg arguments for one run that writes every rung (exported for tests and logs). */
export function hlsArguments(inputPath: string, outDir: string, renditions: readonly Rendition[], options: {
  frameRate: number; outputFps?: number; audio: boolean; maxDurationSec: number;
}): string[] {
  const gop = Math.max(1, Math.round((options.outputFps ?? options.frameRate) * SEGMENT_SECONDS));
  const fpsFilter = options.outputFps !== undefined ? `fps=${options.outputFps},` : "";
  const n = renditions.length;
  // Auto-rotation is on by default, so [0:v:0] arrives upright at the display size.
  const split = n > 1 ? `[0:v:0]${fpsFilter}split=${n}${renditions.map((_, i) => `[s${i}]`).join("")}` : "";
  const branches = renditions.map((r, i) => {
    const from = n > 1 ? `[s${i}]` : `[0:v:0]${fpsFilter}`;
    return `${from}scale=${r.width}:${r.height},setsar=1,format=yuv420p[v${i}]`;
  });
  const filter = [split, ...branches].filter(Boolean).join(";");

  const args = [
    "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
    // Local files only: a crafted container must not make ffmpeg fetch URLs for us.
    "-protocol_whitelist", "file",
    "-t", String(options.maxDurationSec),
    // `file:` stops a ':' in the path being read as a protocol and a leading '-' as an option.
    "-i", `file:${inputPath}`,
    "-filter_complex", filter,
  ];
  renditions.forEach((_, i) => {
    args.push("-map", `[v${i}]`);
    if (options.audio) args.push("-map", "0:a:0");
  });
  args.push(
    "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
    "-g", String(gop), "-keyint_min", String(gop), "-sc_threshold", "0",
    // Keyframes on the segment grid even for variable frame rates: every rung cuts at the same times.
    "-force_key_frames", `expr:gte(t,n_forced*${SEGMENT_SECONDS})`,
  );
  renditions.forEach((r, i) => {
    const bufsize = `${parseInt(r.videoBitrate, 10) * 2}k`;
    args.push(`-b:v:${i}`, r.videoBitrate, `-maxrate:v:${i}`, r.videoMaxrate, `-bufsize:v:${i}`, bufsize, `-level:v:${i}`, r.level);
  });
  if (options.audio) args.push("-c:a", "aac", "-b:a", renditions[0]?.audioBitrate ?? "128k", "-ac", "2");
  args.push(
    "-sn", "-dn", "-map_metadata", "-1",
    "-f", "hls", "-hls_time", String(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
    // Fragmented MP4: one set of segments that the HLS rungs and the DASH manifest both name.
    "-hls_flags", "independent_segments", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
    "-hls_segment_filename", join(outDir, "%v", "seg_%05d.m4s"),
    "-var_stream_map", renditions.map((r, i) => (options.audio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`)).join(" "),
    join(outDir, "%v", "index.m3u8"),
  );
  return args;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split(sep).join("/"));
}

/** Segments first, then rung playlists and the MPD, then the master: upload order, so master means "complete". */
function uploadOrder(a: string, b: string): number {
  const rank = (f: string) => (f === MASTER_PLAYLIST ? 2 : f.endsWith(".m3u8") || f === DASH_MANIFEST ? 1 : 0);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * HLS ladders through one ffmpeg run per source: split + scale to every rung, H.264 High +
 * AAC stereo, 4 s segments with keyframes aligned across rungs, fragmented MP4 segments.
 * The master playlist and the DASH manifest are written here from the plan and the rung
 * playlists, not by ffmpeg.
 */
export function createHlsTranscoder(options: HlsTranscoderOptions = {}): HlsTranscoder {
  const binary = options.binary ?? "ffmpeg";
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const maxDurationSec = options.maxDurationSec ?? 3600;
  const maxPixels = options.maxPixels ?? 4096 * 4096;
  const tempDir = options.tempDir ?? tmpdir();
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  if (!(maxDurationSec > 0)) throw new RangeError(`maxDurationSec must be positive, got ${maxDurationSec}`);
  const budget = options.budget ?? createCpuBudget({ slots: 1 });

  async function run(path: string, input: HlsSource, outDir: string, signal?: AbortSignal): Promise<HlsOutput> {
    const sourceFps = input.frameRate !== undefined && Number.isFinite(input.frameRate) && input.frameRate > 0 ? input.frameRate : DEFAULT_FPS;
    const outputFps = sourceFps > MAX_OUTPUT_FPS ? (sourceFps / 2 <= MAX_OUTPUT_FPS ? sourceFps / 2 : MAX_OUTPUT_FPS) : undefined;
    const frameRate = outputFps ?? sourceFps;
    const audio = input.hasAudio ?? true;
    const renditions = planLadder(input.width, input.height, frameRate);

    await mkdir(outDir, { recursive: true });
    for (const r of renditions) await mkdir(join(outDir, r.name), { recursive: true });
    const args = hlsArguments(path, resolve(outDir), renditions, { frameRate, outputFps, audio, maxDurationSec });

    signal?.throwIfAborted();
    let result: ToolResult;
    try {
      result = await runTool(binary, args, { timeoutMs, maxStdoutBytes: MAX_STDOUT_BYTES });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code === "ENOENT" || code === "EACCES") {
        throw new AppError("dependency_down", "video transcoding is unavailable: ffmpeg is not installed", { dependency: "ffmpeg" }, { cause: error });
      }
      throw new AppError("internal", `${toolName(binary, "ffmpeg")} could not be run`, {}, { cause: error });
    }
    signal?.throwIfAborted();

    if (result.exitCode !== 0 || result.timedOut || result.stdoutOverflow) {
      if (/No space left on device/i.test(result.stderrTail)) {
        throw new AppError("insufficient_storage", "no space left for the transcode", {}, { cause: new Error(`ffmpeg: ${result.stderrTail}`) });
      }
      if (result.timedOut) throw failed(`timed out after ${timeoutMs} ms`, result);
      throw failed(result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`, result);
    }

    const rungs = new Map<string, RungSegments>();
    for (const r of renditions) {
      try {
        rungs.set(r.name, parseRungPlaylist(await readFile(join(outDir, r.name, "index.m3u8"), "utf8")));
      } catch (error) {
        throw failed(`rung ${r.name}: ${(error as Error).message}`, result);
      }
    }
    await writeFile(join(outDir, DASH_MANIFEST), dashManifest(renditions, rungs, { audio }));
    await writeFile(join(outDir, MASTER_PLAYLIST), masterPlaylist(renditions, { audio }));
    const files = (await listFiles(outDir)).sort(uploadOrder);
    const unexpected = files.filter((f) => !isHlsFileName(f));
    if (unexpected.length > 0) {
      throw new AppError("internal", "the transcode wrote unexpected files", {}, { cause: new Error(`unexpected: ${unexpected.slice(0, 5).join(", ")}`) });
    }
    for (const r of renditions) {
      if (!files.includes(`${r.name}/index.m3u8`) || !files.some((f) => f.startsWith(`${r.name}/seg_`))) {
        throw failed(`rung ${r.name} has no output`, result);
      }
    }
    return { renditions, files, audio };
  }

  return {
    status: () => toolStatus(binary, "ffmpeg", 5_000),

    async transcode(input, outDir, signal) {
      signal?.throwIfAborted();
      if (!(Number.isFinite(input.width) && Number.isFinite(input.height) && input.width >= 1 && input.height >= 1)) {
        throw new AppError("undecodable_media", "the video has no picture size", {}, { cause: new Error(`size ${input.width}x${input.height}`) });
      }
      if (input.width * input.height > maxPixels) {
        throw new AppError("pixel_limit_exceeded", `the video is larger than ${maxPixels} pixels a frame`, { width: input.width, height: input.height, maxPixels });
      }
      if (Number.isFinite(input.duration) && input.duration > maxDurationSec) {
        throw new AppError("output_too_large", `videos longer than ${maxDurationSec} s are not transcoded`, { duration: input.duration, maxDurationSec });
      }
      return budget.run(async () => {
        try {
          return await withLocalFile({ ...input, contentType: "application/octet-stream" }, tempDir, (path) => run(path, input, outDir, signal));
        } catch (error) {
          // Half-written rungs must not be mistaken for a ladder by a caller that reuses outDir.
          await rm(outDir, { recursive: true, force: true }).catch(() => {});
          throw error;
        }
      }, { signal, patient: true });
    },
  };
}
