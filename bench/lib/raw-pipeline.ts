import { execFile } from "node:child_process";
import { rm, stat } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The raw pipeline assetd's ingestion is compared with: read the file once, write it to
 * the same disk and hash it with sha256sum, then fsync the copy (assetd fsyncs before it
 * answers, so the baseline does too). The sync is timed on its own: it is the baseline's
 * counterpart of the work an upload does after its last byte.
 */
const RAW = 'set -eo pipefail; tee "$2" < "$1" | sha256sum | cut -d" " -f1; ' +
  't0=$(date +%s%N); sync "$2"; echo $(( $(date +%s%N) - t0 ))';

export const RAW_PIPELINE_NAME = "tee | sha256sum + fsync, same disk";

export interface RawRun {
  mbPerSecond: number;
  seconds: number;
  /** The `sync` of the copy alone. */
  syncSeconds: number;
  sha256: string;
}

/** Runs the raw pipeline once from `file` to `copy` (removed afterwards). MB = 10^6 bytes. */
export async function rawPipeline(file: string, copy: string): Promise<RawRun> {
  const { size } = await stat(file);
  const started = performance.now();
  const { stdout } = await run("bash", ["-c", RAW, "raw", file, copy]);
  const seconds = (performance.now() - started) / 1000;
  await rm(copy, { force: true });
  const [sha256 = "", syncNs = "0"] = stdout.trim().split("\n");
  return { mbPerSecond: size / 1e6 / seconds, seconds, syncSeconds: Number(syncNs) / 1e9, sha256: sha256.trim() };
}
