import { availableParallelism, tmpdir } from "node:os";
import { AppError } from "../../domain/errors.js";
import type { CpuBudget } from "../../ports/cpu-budget.js";
import type { MediaProbe, ProbeSource } from "../../ports/media-probe.js";
import type { AssetMeta } from "../../ports/repos.js";
import { factsFromFfprobe } from "./ffprobe-facts.js";
import { createCpuBudget } from "../cpu-budget.js";
import { withLocalFile } from "./local-file.js";
import { runTool, toolName, toolStatus, type ToolResult } from "./run-tool.js";

export interface FfprobeOptions {
  /** The ffprobe executable: a name looked up on PATH, or a path. Default "ffprobe". */
  binary?: string;
  /** ffprobe is killed after this long. Default 30 s (a probe normally takes well under 0.1 s). */
  timeoutMs?: number;
  /** Bounds ffprobe processes, with the process's other media work; default its own, one slot per CPU. */
  budget?: CpuBudget;
  /** Where a source without a local path is copied for probing. Default: the OS temp dir. */
  tempDir?: string;
}

/** Metadata JSON is a few KB; megabytes mean a file built to flood us (thousands of streams). */
const MAX_STDOUT_BYTES = 8 * 1024 * 1024;
const STATUS_TIMEOUT_MS = 5_000;

const BASE_ARGS = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams"] as const;

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase();

const spawnCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/** The reason a probe cannot run at all (the asset still becomes ready), or undefined. */
function unavailableReason(binary: string, error: unknown): string | undefined {
  const code = spawnCode(error);
  if (code === "ENOENT") return `${toolName(binary, "ffprobe")} is not installed`;
  if (code === "EACCES") return `${toolName(binary, "ffprobe")} could not be started (EACCES)`;
  return undefined;
}


/** The file cannot be read as media; ffprobe's words go to `cause` (logs), never to users. */
function undecodable(why: string, result?: ToolResult): AppError {
  const detail = result?.stderrTail ? `${why}: ${result.stderrTail}` : why;
  return new AppError("undecodable_media", "the media file could not be read", {}, { cause: new Error(`ffprobe: ${detail}`) });
}

/**
 * Video and audio facts through ffprobe (Debian's; the npm static builds segfault, see
 * PLATFORM.md). One process per file, bounded, killed on timeout.
 */
export function createFfprobe(options: FfprobeOptions = {}): MediaProbe {
  const binary = options.binary ?? "ffprobe";
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  const budget = options.budget ?? createCpuBudget({ slots: Math.max(1, availableParallelism()) });
  const tempDir = options.tempDir ?? tmpdir();

  async function probe(path: string): Promise<AssetMeta> {
    // `file:` stops a ':' in the path from being read as a protocol (and a leading '-' from
    // being read as an option); the protocol whitelist stops a playlist-like upload (HLS,
    // concat) from making ffprobe fetch URLs (http, tcp, ...) on our behalf.
    const input = `file:${path}`;
    const args = [...BASE_ARGS, "-protocol_whitelist", "file", "-i", input];

    let result: ToolResult;
    try {
      result = await runTool(binary, args, { timeoutMs, maxStdoutBytes: MAX_STDOUT_BYTES });
    } catch (error) {
      const reason = unavailableReason(binary, error);
      if (reason) return { mediaFactsUnavailable: reason };
      throw new AppError("internal", "the media probe could not be run", {}, { cause: error });
    }

    // Timeouts and floods are decided by the file (a retry would do the same), so they fail
    // the asset like any other unreadable input rather than retrying forever.
    if (result.timedOut) throw undecodable(`timed out after ${timeoutMs} ms`, result);
    if (result.stdoutOverflow) throw undecodable(`more than ${MAX_STDOUT_BYTES} bytes of metadata`, result);
    if (result.exitCode !== 0) {
      // Our store lost the file or cannot read it: not the uploader's fault, so not a 422.
      if (/: (No such file or directory|Permission denied)\s*$/m.test(result.stderrTail) && result.stderrTail.includes(input)) {
        throw new AppError("internal", "the stored media file could not be opened", {}, {
          cause: new Error(`ffprobe: ${result.stderrTail}`),
        });
      }
      throw undecodable(result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`, result);
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(result.stdout.toString("utf8"));
    } catch {
      throw undecodable("output is not JSON", result);
    }
    const facts = factsFromFfprobe(parsed);
    if (!facts.hasVideo && !facts.hasAudio) throw undecodable("no audio or video stream", result);
    return facts.meta;
  }

  return {
    handles(contentType) {
      const type = mediaType(contentType);
      return type.startsWith("video/") || type.startsWith("audio/");
    },

    describe(source) {
      // The temporary copy is made inside the slot so a burst does not fill the disk either.
      // Probes run in background jobs: they wait for a slot, never refused.
      return budget.run(() => withLocalFile(source, tempDir, probe), { patient: true });
    },

    status: () => toolStatus(binary, "ffprobe", Math.min(timeoutMs, STATUS_TIMEOUT_MS)),
  };
}
