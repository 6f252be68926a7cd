import { MAX_PREWARM_TOP } from "../domain/prewarm.js";
import { ConfigError, decimal, integer, type Read } from "./values.js";

/**
 * Demand prediction. Off by default: a guess spends render time and variant-cache bytes
 * (it can evict what was asked for) before anyone asked, so an operator turns it on.
 */
export function prewarmConfig(read: Read): { top: number; cpuShare: number; windowDays: number } {
  const cpuShare = decimal(read, "ASSETD_PREWARM_CPU_SHARE", 0.25, 0, 1);
  if (cpuShare === 0) throw new ConfigError("ASSETD_PREWARM_CPU_SHARE", "expected a share above 0 (turn prewarm off with ASSETD_PREWARM_TOP=0)");
  return {
    top: integer(read, "ASSETD_PREWARM_TOP", 0, 0, MAX_PREWARM_TOP),
    cpuShare,
    windowDays: integer(read, "ASSETD_PREWARM_WINDOW_DAYS", 7, 1, 365),
  };
}
