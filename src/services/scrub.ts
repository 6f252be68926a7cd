import { rawKey } from "../domain/content-address.js";
import { canTransition } from "../domain/states.js";
import type { BlobCareRepo } from "../ports/blob-care.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { CareMetrics } from "../ports/care-metrics.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { BlobRow, Repos } from "../ports/repos.js";
import type { Replication } from "./replication.js";
import { copyVerified, hashStored, rateLimit } from "./stored-bytes.js";

export interface ScrubDeps {
  repos: Pick<Repos, "assets">;
  care: Pick<BlobCareRepo, "leastRecentlyVerified" | "markVerified" | "assetsOf">;
  /** The primary as it is (both tiers, no failover, no read tracking). */
  primary: BlobStore;
  /** With a replica, damage is repaired from it and unreplicated content is queued for it. */
  replica: { store: BlobStore; replication: Pick<Replication, "replicateLater"> } | undefined;
  /** Bytes a second scrub reads at most (0: unlimited). */
  bytesPerSecond: number;
  metrics: CareMetrics;
  clock: Clock;
  logger: Logger;
}

/** What one scrub pass found. */
export interface ScrubReport {
  /** Originals re-hashed (or found missing). */
  checked: number;
  /** Bytes read and hashed. */
  bytes: number;
  /** Missing or corrupt originals restored from the replica. */
  repaired: number;
  /** Originals whose bytes no longer hash to their address (repaired or not). */
  corrupt: number;
  /** Originals with no object in the store (repaired or not). */
  missing: number;
  /** Assets turned `failed` (code `corrupt`): their content was damaged and no replica could repair it. */
  failedAssets: number;
  /** Originals the store failed to read (an error, not a missing object): tried again first next pass. */
  unreadable: number;
  /** Originals not yet on the replica, queued for a copy. */
  replicationQueued: number;
  durationMs: number;
  /** The read rate achieved, MB (10^6 bytes) a second. */
  mbPerSecond: number;
}

export interface ScrubProgress {
  checked: number;
  total: number;
  bytes: number;
}

export const DEFAULT_SCRUB_LIMIT = 1000;

/**
 * Re-hashes stored originals, least recently verified first, at a bounded rate. A copy
 * that is missing or no longer matches its content address is restored from the replica
 * when there is one; otherwise every asset holding it turns `failed` with code `corrupt`
 * (an event on each, and a metric), so it is no longer served as if it were intact.
 */
export function createScrub(deps: ScrubDeps) {
  const { care, primary, replica, metrics, clock, logger } = deps;

  async function failAssets(blob: BlobRow, kind: "missing" | "corrupt"): Promise<number> {
    let failed = 0;
    const message = kind === "missing" ? "the stored bytes are gone and no replica holds them" : "the stored bytes no longer match their checksum and no replica holds a good copy";
    for (const asset of await care.assetsOf(blob.sha256)) {
      if (!canTransition(asset.status, "failed")) continue;
      const changed = await deps.repos.assets.transition(asset.id, {
        from: asset.status, to: "failed", reason: `scrub: content ${kind}`, at: clock.now(), failure: { code: "corrupt", message },
      });
      if (changed) failed++;
    }
    return failed;
  }

  async function run(options: { limit?: number; onProgress?: (progress: ScrubProgress) => void } = {}): Promise<ScrubReport> {
    const started = performance.now();
    const throttle = rateLimit(deps.bytesPerSecond);
    const report: ScrubReport = { checked: 0, bytes: 0, repaired: 0, corrupt: 0, missing: 0, failedAssets: 0, unreadable: 0, replicationQueued: 0, durationMs: 0, mbPerSecond: 0 };
    const blobs = await care.leastRecentlyVerified(options.limit ?? DEFAULT_SCRUB_LIMIT);
    for (const blob of blobs) {
      let found: Awaited<ReturnType<typeof hashStored>>;
      try {
        found = await hashStored(primary, blob.storageKey, throttle);
      } catch (error) {
        // The store failed (not "no object"): nothing is concluded; the blob is tried first next time.
        report.unreadable++;
        logger.warn({ err: error, sha256: blob.sha256 }, "scrub could not read an original");
        continue;
      }
      report.checked++;
      report.bytes += found?.size ?? 0;
      metrics.scrubbed(found?.size ?? 0);
      if (found?.sha256 === blob.sha256) {
        if (replica && !blob.replicated) {
          await replica.replication.replicateLater(blob.sha256);
          report.replicationQueued++;
        }
      } else {
        const kind = found ? "corrupt" : "missing";
        report[kind]++;
        const outcome = replica
          ? await copyVerified(replica.store, rawKey(blob.sha256), primary, blob.storageKey, blob.sha256, { replace: found !== undefined })
          : undefined;
        metrics.damaged(kind, outcome === "copied");
        if (outcome === "copied") {
          report.repaired++;
          logger.warn({ sha256: blob.sha256, was: kind }, "scrub repaired an original from the replica");
        } else {
          report.failedAssets += await failAssets(blob, kind);
          logger.error({ sha256: blob.sha256, was: kind, replica: outcome ?? "none" }, "scrub found a damaged original it cannot repair");
        }
      }
      // Checked now, whatever the outcome: the next pass starts with what was checked longest ago.
      await care.markVerified(blob.sha256, clock.now());
      options.onProgress?.({ checked: report.checked, total: blobs.length, bytes: report.bytes });
    }
    report.durationMs = Math.round(performance.now() - started);
    report.mbPerSecond = report.durationMs > 0 ? Math.round((report.bytes / 1e6 / (report.durationMs / 1000)) * 100) / 100 : 0;
    logger.info(report, "scrub pass finished");
    return report;
  }

  return { run };
}

export type ScrubService = ReturnType<typeof createScrub>;
