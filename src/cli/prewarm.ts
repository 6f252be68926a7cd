import { loadConfig } from "../config/index.js";
import { createRuntime } from "../main.js";

/**
 * `assetd prewarm [ASSET_ID] [--owner O] [--top N] [--dry-run]`: demand prediction now,
 * in this process against the configured database and queue (as `POST /v1/admin/prewarm`
 * does); the renders it queues are done by the running workers. The report goes to
 * stdout as JSON.
 */
export async function prewarmCommand(assetId: string | undefined, options: { owner?: string; top?: number; dryRun?: boolean }): Promise<void> {
  const config = loadConfig();
  const runtime = await createRuntime(config, { api: false, worker: false });
  try {
    const report = await runtime.prewarm.run({ assetId, owner: options.owner, top: options.top, dryRun: options.dryRun === true });
    process.stdout.write(`${JSON.stringify(report, null, process.stdout.isTTY ? 2 : 0)}\n`);
  } finally {
    await runtime.close();
  }
}
