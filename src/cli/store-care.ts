import cliProgress from "cli-progress";
import { loadConfig } from "../config/index.js";
import { createRuntime } from "../main.js";

/**
 * `assetd scrub` and `assetd lifecycle`: one pass in this process against the configured
 * database and stores, the report as JSON on stdout, a bar on stderr when it is a terminal.
 * Safe beside running servers: every step of a pass is idempotent.
 */
export async function storeCarePassCommand(pass: "scrub" | "lifecycle", options: { limit?: number }): Promise<void> {
  const config = loadConfig();
  const runtime = await createRuntime(config, { api: false, worker: false });
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: `${pass} [{bar}] {value}/{total} blobs, {mb} MB`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  const progress = (done: number, total: number, bytes: number) => {
    if (!bar) return;
    if (!started) {
      bar.start(total, 0, { mb: "0" });
      started = true;
    }
    bar.update(done, { mb: (bytes / 1e6).toFixed(1) });
  };
  try {
    const limit = options.limit === undefined ? {} : { limit: options.limit };
    const report = pass === "scrub"
      ? await runtime.storeCare.service.scrub({ ...limit, onProgress: (p) => progress(p.checked, p.total, p.bytes) })
      : await runtime.storeCare.service.lifecycle({ ...limit, onProgress: (p) => progress(p.done, p.total, p.bytes) });
    bar?.stop();
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    bar?.stop();
    await runtime.close();
  }
}
