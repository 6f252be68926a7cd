import { AppError } from "../../domain/errors.js";
import { runTool, type ToolResult, type ToolRun } from "./run-tool.js";

/** The file cannot be decoded; the tool's words go to `cause` (logs), never to users. */
export function undecodable(tool: string, why: string, result?: ToolResult): AppError {
  const detail = result?.stderrTail ? `${why}: ${result.stderrTail}` : why;
  return new AppError("undecodable_media", "the video could not be decoded", {}, { cause: new Error(`${tool}: ${detail}`) });
}

/** A run that ended badly: timed out, flooded its output, was killed or exited non-zero. */
export function toolFailed(tool: string, result: ToolResult, timeoutMs: number): AppError {
  if (result.timedOut) return undecodable(tool, `timed out after ${timeoutMs} ms`, result);
  if (result.stdoutOverflow) return undecodable(tool, "too much output", result);
  return undecodable(tool, result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`, result);
}

/**
 * Runs a video tool. A tool that is missing or not executable answers `503
 * dependency_down` naming what is unavailable (`feature`, e.g. "video frames"); any other
 * spawn failure is internal. An abort rejects with the signal's reason, untouched.
 */
export async function runVideoTool(tool: string, args: readonly string[], run: ToolRun, feature: string): Promise<ToolResult> {
  try {
    return await runTool(tool, args, run);
  } catch (error) {
    if (run.signal?.aborted && error === run.signal.reason) throw error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ENOENT" || code === "EACCES") {
      throw new AppError("dependency_down", `ffmpeg is not installed; ${feature} are unavailable`, {}, { cause: error });
    }
    throw new AppError("internal", "the video tool could not be run", {}, { cause: error });
  }
}
