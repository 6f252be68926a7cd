import { rawKey } from "../domain/content-address.js";
import type { BlobCareRepo } from "../ports/blob-care.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { CareMetrics } from "../ports/care-metrics.js";
import type { Clock } from "../ports/clock.js";
import type { JobPayloads, JobQueue } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import type { Repos } from "../ports/repos.js";
import { copyVerified, hashStored } from "./stored-bytes.js";

export interface ReplicationDeps {
  repos: Pick<Repos, "blobs">;
  care: Pick<BlobCareRepo, "markReplicated">;
  /** The primary as it is (both tiers, no failover): the copy being checked. */
  primary: BlobStore;
  replica: BlobStore;
  queue: Pick<JobQueue, "enqueue">;
  metrics: CareMetrics;
  clock: Clock;
  logger: Logger;
}

/** A failing original asks for one repair per this long, however many reads hit it. */
const REPAIR_DEBOUNCE_MS = 10_000;
const MAX_DEBOUNCED = 10_000;

/**
 * Keeps a second copy of every original on the replica store: the `replicate` job copies
 * new content there (verified by hash on the way) and repairs the primary from it when a
 * read found the primary copy missing, failing or corrupt.
 */
export function createReplication(deps: ReplicationDeps) {
  const { repos, care, primary, replica, queue, metrics, clock, logger } = deps;
  const recentRepairs = new Map<string, number>();

  /**
   * The `replicate` job. Idempotent: content already on the replica (same size) is not
   * copied again; a job for content that is gone does nothing. A copy that cannot be made
   * throws, so the job is retried and finally dead-lettered.
   */
  async function job({ sha256, repair }: JobPayloads["replicate"]): Promise<void> {
    const blob = await repos.blobs.get(sha256);
    if (!blob) return;
    const replicaKey = rawKey(sha256);
    if (repair) {
      const found = await hashStored(primary, blob.storageKey);
      if (found?.sha256 !== sha256) {
        const outcome = await copyVerified(replica, replicaKey, primary, blob.storageKey, sha256, { replace: found !== undefined });
        if (outcome !== "copied") throw new Error(`the primary copy of ${sha256} cannot be repaired: the replica's is ${outcome}`);
        metrics.damaged(found ? "corrupt" : "missing", true);
        logger.warn({ sha256, was: found ? "corrupt" : "missing" }, "primary copy repaired from the replica");
      }
    }
    const onReplica = await replica.head(replicaKey);
    if (onReplica?.size !== blob.size) {
      const outcome = await copyVerified(primary, blob.storageKey, replica, replicaKey, sha256, { replace: onReplica !== undefined });
      if (outcome !== "copied") throw new Error(`${sha256} cannot be replicated: the primary copy is ${outcome}`);
      metrics.replicated(blob.size);
    }
    if (!blob.replicated) await care.markReplicated(sha256, true);
  }

  /** Queues the copy of new content (after its commit). */
  async function replicateLater(sha256: string): Promise<void> {
    await queue.enqueue("replicate", { sha256 }, { key: sha256 });
  }

  /**
   * A read was answered by the replica: queue one repair of the primary. Called on the
   * request path, so it never waits and never throws.
   */
  function repairLater(sha256: string): void {
    const now = clock.now();
    const last = recentRepairs.get(sha256);
    if (last !== undefined && now - last < REPAIR_DEBOUNCE_MS) return;
    if (recentRepairs.size >= MAX_DEBOUNCED) recentRepairs.clear();
    recentRepairs.set(sha256, now);
    queue.enqueue("replicate", { sha256, repair: true }, { key: `repair:${sha256}` })
      .catch((error: unknown) => logger.warn({ err: error, sha256 }, "could not queue a repair of the primary copy"));
  }

  return { job, replicateLater, repairLater };
}

export type Replication = ReturnType<typeof createReplication>;
