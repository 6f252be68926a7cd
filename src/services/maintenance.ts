import { AppError, NotFoundError } from "../domain/errors.js";
import type { AssetKind } from "../domain/media-types.js";
import type { JobInfo, JobQueue, JobState } from "../ports/job-queue.js";
import type { Repos } from "../ports/repos.js";
import type { GcReport } from "./gc.js";
import type { UploadService } from "./uploads.js";

export type { JobInfo, JobState };

export interface MaintenanceDeps {
  repos: Pick<Repos, "assets">;
  queue: Pick<JobQueue, "enqueue" | "list" | "retry">;
  /** The upload expiry sweep, which also runs on a schedule. */
  sweep: UploadService["sweep"];
  /** The garbage collector (services/gc.ts). */
  gc: (options: { dryRun?: boolean }) => Promise<GcReport>;
}

/** Which ready assets to re-run metadata extraction for: one, all of a type, or all. */
export interface ReprocessTarget {
  assetId?: string;
  type?: AssetKind;
}

/** Assets listed per page while queueing a reprocess of many. */
const PAGE = 500;
/** Dead jobs searched for the one to retry. */
const DEAD_SCAN = 10_000;

/** Operator use cases: jobs and dead letters, reprocessing, the upload sweep. */
export function createMaintenanceService(deps: MaintenanceDeps) {
  const { repos, queue } = deps;

  /**
   * Re-runs metadata extraction, e.g. after an upgrade added new facts. Idempotent: an
   * asset already queued is not queued twice.
   */
  async function reprocess({ assetId, type }: ReprocessTarget): Promise<{ queued: number }> {
    let queued = 0;
    const enqueue = async (id: string) => {
      await queue.enqueue("extract-metadata", { assetId: id, reprocess: true }, { key: `reprocess:${id}` });
      queued++;
    };
    if (assetId) {
      const asset = await repos.assets.get(assetId);
      if (!asset || asset.status === "deleted") throw new NotFoundError();
      if (asset.status !== "ready") throw new AppError("state_conflict", `only ready assets are reprocessed; this one is ${asset.status}`);
      await enqueue(assetId);
      return { queued };
    }
    let beforeId: string | undefined;
    for (;;) {
      const page = await repos.assets.list({ status: "ready", ...(type ? { kind: type } : {}) }, { kind: "all" }, { limit: PAGE, beforeId });
      for (const asset of page) await enqueue(asset.id);
      if (page.length < PAGE) break;
      beforeId = page[page.length - 1]!.id;
    }
    return { queued };
  }

  /** Puts a dead job back in the queue. */
  async function retryDead(id: string): Promise<void> {
    const dead = await queue.list("dead", DEAD_SCAN);
    if (!dead.some((job) => job.id === id)) throw new NotFoundError("dead job");
    if (!(await queue.retry(id))) {
      throw new AppError("state_conflict", "the job could not be retried (an identical job is already queued)");
    }
  }

  return {
    /** Jobs in one state, newest first; `dead` are the dead letters. */
    jobs: (state: JobState, limit: number): Promise<JobInfo[]> => queue.list(state, limit),
    reprocess,
    retryDead,
    sweep: () => deps.sweep(),
    gc: (options: { dryRun?: boolean }) => deps.gc(options),
  };
}

export type MaintenanceService = ReturnType<typeof createMaintenanceService>;
