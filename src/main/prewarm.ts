import type { Config } from "../config/index.js";
import { createCpuBudget } from "../media/cpu-budget.js";
import type { Clock } from "../ports/clock.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { Repos } from "../ports/repos.js";
import { createPrewarmService, type PrewarmService } from "../services/prewarm.js";
import type { RenderJobDeps, Renderer } from "../services/render-jobs.js";

export interface Prewarm {
  service: PrewarmService;
  /** For render jobs: the gate prewarm renders run in, and the record of what they stored. */
  renders: NonNullable<RenderJobDeps["prewarm"]>;
}

/**
 * Demand prediction (ASSETD_PREWARM_*). Its renders share this process's render slots
 * (ASSETD_MAX_TRANSFORMS): at most ASSETD_PREWARM_CPU_SHARE of them (at least one) run
 * prewarm renders at a time; the others wait in their jobs, so requests keep the rest.
 */
export function createPrewarm(
  config: Config, deps: { repos: Repos; queue: Pick<JobQueue, "enqueue">; renderer: Renderer; clock: Clock; logger: Logger; metrics: Metrics },
): Prewarm {
  const { top, cpuShare, windowDays } = config.prewarm;
  const service = createPrewarmService({ ...deps, top, windowDays });
  const gate = createCpuBudget({ slots: Math.max(1, Math.floor(cpuShare * config.maxTransforms)) });
  return { service, renders: { gate, rendered: service.rendered } };
}
