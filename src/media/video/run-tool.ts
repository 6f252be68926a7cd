import { spawn } from "node:child_process";
import type { ToolStatus } from "../../ports/transcoder.js";

export interface ToolRun {
  /** The tool is killed (SIGKILL) after this long: a crafted file must not hang a worker. */
  timeoutMs: number;
  /** Output beyond this is a hostile or broken file, not metadata: the tool is killed. */
  maxStdoutBytes: number;
  /** Kills the tool when aborted; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ToolResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The last few KB of stderr, for logs (it may name paths: never show it to users). */
  stderrTail: string;
  timedOut: boolean;
  stdoutOverflow: boolean;
}

const STDERR_TAIL_BYTES = 4096;

/**
 * Runs a tool with an argument array, never through a shell, so nothing in a path or a
 * file name is ever interpreted. Resolves with whatever happened once the process is gone;
 * rejects only when it could not be started (the spawn error, e.g. ENOENT, keeps its `code`).
 */
export function runTool(binary: string, args: readonly string[], run: ToolRun): Promise<ToolResult> {
  const { signal } = run;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: ["ignore", "pipe", "pipe"],
      shell: false,
      // Its own process group, so a kill also reaches anything the tool started.
      detached: true,
      windowsHide: true,
    });
    let killed = false;
    const kill = () => {
      killed = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL"); // the group is already gone, or this platform has none
      }
    };

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutOverflow = false;
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    let settled = false;

    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, run.timeoutMs);
    signal?.addEventListener("abort", kill, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", kill);
    };

    child.stdout!.on("data", (chunk: Buffer) => {
      if (stdoutOverflow) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > run.maxStdoutBytes) {
        stdoutOverflow = true;
        kill();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_TAIL_BYTES) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
    });

    child.once("error", (error) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    });
    const finish = (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      cleanup();
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      resolve({
        exitCode, signal: exitSignal, stdout: Buffer.concat(stdout), stderrTail: stderr.toString("utf8").trim(), timedOut, stdoutOverflow,
      });
    };
    // Normally wait for "close" (all output read). Once we have killed the tool, its exit is
    // enough: a grandchild still holding the pipes open must not keep the caller waiting.
    child.once("close", finish);
    child.once("exit", (exitCode, exitSignal) => {
      if (killed) {
        finish(exitCode, exitSignal);
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
    });
  });
}

/** `binary`'s file name: what readiness reports and messages call the tool. */
export const toolName = (binary: string, fallback: string): string => binary.split("/").pop() || fallback;

/**
 * For readiness: whether `binary -version` runs, its version, or why it does not. Named,
 * so a report of several tools says which is which.
 */
export async function toolStatus(binary: string, fallback: string, timeoutMs: number): Promise<ToolStatus> {
  const name = toolName(binary, fallback);
  try {
    const result = await runTool(binary, ["-hide_banner", "-version"], { timeoutMs, maxStdoutBytes: 64 * 1024 });
    if (result.exitCode !== 0) {
      return { name, available: false, reason: `${name} -version failed (${result.timedOut ? "timed out" : result.signal ?? `exit code ${result.exitCode}`})` };
    }
    const version = /version\s+(\S+)/.exec(result.stdout.toString("utf8"))?.[1];
    return { name, available: true, version: `${name} ${version ?? "unknown"}` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return { name, available: false, reason: code === "ENOENT" ? `${name} is not installed` : `${name} could not be started${code ? ` (${code})` : ""}` };
  }
}
