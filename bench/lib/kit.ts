import { join } from "node:path";
import { startAssetd, type AssetdServer } from "./assetd.js";
import { formatProfile, summariseProfiles } from "./cpuprofile.js";
import type { ScenarioContext, ScenarioResult } from "./types.js";

/**
 * For scenarios that measure throughput from one client: the per-client request limit,
 * render budget and per-asset recipe cap (which the abuse scenario exercises) would
 * otherwise be what is measured.
 */
export const UNLIMITED: Readonly<Record<string, string>> = {
  ASSETD_RATE_LIMIT: "0", ASSETD_RENDER_BUDGET: "0", ASSETD_MAX_RECIPES_PER_ASSET: "100000",
};

/** The admin token's header: only admins see X-Cache, which the delivery scenarios check. */
export const adminOf = (server: AssetdServer): Record<string, string> => ({ authorization: `Bearer ${server.token}` });

/**
 * Starts assetd for a scenario (its own data directory under the scenario's temp dir) and
 * registers its shutdown. With --profile it runs under `node --cpu-prof`, and once it has
 * exited the hottest functions are added to the result. A scenario that starts several
 * servers gives each its own `dataDirName` (and may stop one early: stop() is idempotent).
 */
export async function launchAssetd(ctx: ScenarioContext, result: ScenarioResult, env?: Record<string, string>,
  dataDirName = "assetd-data"): Promise<AssetdServer> {
  const cpuProfileDir = ctx.profile ? join(ctx.outDir, "profiles", `${result.name}-${dataDirName}-${Date.now()}`) : undefined;
  const server = await startAssetd(join(ctx.tmpDir, dataDirName), { ...(cpuProfileDir ? { cpuProfileDir } : {}), ...(env ? { env } : {}) });
  ctx.log(`assetd pid ${server.pid} at ${server.url}${cpuProfileDir ? " (under --cpu-prof)" : ""}`);
  ctx.defer(async () => {
    await server.stop();
    if (!cpuProfileDir) return;
    const summaries = await summariseProfiles(cpuProfileDir);
    for (const summary of summaries) result.profile.push(...formatProfile(summary));
    result.details.profiles = summaries;
    if (result.profile.length === 0) result.profile.push(`no .cpuprofile written in ${cpuProfileDir}`);
  });
  return server;
}
