import { loadConfig } from "../config/index.js";
import { createRuntime, type GcReport } from "../main.js";

/**
 * `assetd gc [--dry-run]`: one gc pass against the configured database and store, the same
 * pass the worker schedules (safe beside running servers and to interrupt). On a terminal
 * it shows progress on stderr; the report goes to stdout as JSON either way.
 */
export async function gcCommand(options: { dryRun?: boolean }): Promise<void> {
  const config = loadConfig();
  const runtime = await createRuntime(config, { api: false, worker: false });
  const tty = process.stderr.isTTY === true;
  const show = (phase: string, r: GcReport) => {
    if (!tty) return;
    process.stderr.write(`\r\x1b[2Kgc ${phase}: ${r.found} found, ${r.removed} removed, ${r.bytesCollected} bytes${r.dryRun ? " (dry run)" : ""}`);
  };
  try {
    const report = await runtime.gc.run({ dryRun: options.dryRun ?? false, onProgress: show });
    if (tty) process.stderr.write("\n");
    process.stdout.write(`${JSON.stringify(report, null, tty ? 2 : 0)}\n`);
    if (report.errors > 0) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}
