import { isAppError } from "../domain/errors.js";
import { assertTransition } from "../domain/states.js";
import { BlobNotFoundError, type BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { ImageEngine, RenderLimits } from "../ports/image-engine.js";
import type { JobHandlers, JobQueue } from "../ports/job-queue.js";
import type { Scanner } from "../ports/scanner.js";
import { blobSource } from "./blob-source.js";
import type { HlsService } from "./hls.js";
import type { MediaProbe } from "../ports/media-probe.js";
import type { Logger } from "../ports/logger.js";
import type { AssetMeta, Repos } from "../ports/repos.js";
import type { PrewarmService } from "./prewarm.js";
import type { RenderJobs } from "./render-jobs.js";

export interface JobDeps {
  repos: Repos;
  store: BlobStore;
  queue: JobQueue;
  /** Configured virus scanner, if any. */
  scanner: Scanner | undefined;
  /** The HLS ladder builder (transcode-hls). */
  hls: Pick<HlsService, "job">;
  engine: ImageEngine;
  /** Describers for what the image engine does not read: audio/video, PDF. */
  probes: readonly MediaProbe[];
  clock: Clock;
  logger: Logger;
  limits: RenderLimits;
  /** Variants rendered by jobs (render-variant, and the eager ones an upload named). */
  renders: Pick<RenderJobs, "job" | "eager">;
  /** Demand prediction: queued once an asset is ready (the `prewarm` job). */
  prewarm: Pick<PrewarmService, "afterReady" | "job">;
}

/**
 * Background job handlers by name. Each is idempotent: it acts only on the state it expects.
 * `replicate` belongs to the replication service (services/replication.ts), `webhook-deliver`
 * to services/webhook-delivery.ts.
 */
export function createJobHandlers(deps: JobDeps): Omit<JobHandlers, "replicate" | "webhook-deliver"> {
  const { repos, store, engine, clock, logger } = deps;

  return {
    /**
     * verified -> quarantined when the scanner finds something, else hand over to
     * extract-metadata. A scanner that cannot be reached makes the job fail, so it is
     * retried and finally dead-lettered while the asset waits, unserved, in `verified`.
     */
    async scan({ assetId, eager }, ctx) {
      const asset = await repos.assets.get(assetId);
      if (!asset || asset.status !== "verified" || !asset.blobSha256) return;
      if (!deps.scanner) {
        await deps.queue.enqueue("extract-metadata", { assetId, ...(eager ? { eager } : {}) }, { key: assetId });
        return;
      }
      const blob = await repos.blobs.get(asset.blobSha256);
      if (!blob) throw new Error(`content record ${asset.blobSha256} missing for asset ${assetId}`);
      let verdict;
      try {
        verdict = await deps.scanner.scan(await store.get(blob.storageKey), ctx.signal);
      } catch (error) {
        // Flag the asset so its manifest says why it is still waiting; the job is retried
        // and, after the last attempt, dead-lettered.
        await repos.assets.replaceMeta(assetId, "verified", {
          ...(asset.meta ?? {}), scan: "unavailable", scanAttempts: ctx.attempt,
        }, clock.now());
        throw error;
      }
      if (verdict.clean) {
        await deps.queue.enqueue("extract-metadata", { assetId, scanned: true, ...(eager ? { eager } : {}) }, { key: assetId });
        return;
      }
      assertTransition("verified", "quarantined", assetId);
      await repos.assets.transition(assetId, {
        from: "verified", to: "quarantined", reason: `virus scan: ${verdict.signature}`, at: clock.now(),
        failure: { code: "infected", message: `the virus scanner found ${verdict.signature}` },
      });
      logger.warn({ assetId, sha256: blob.sha256, signature: verdict.signature }, "asset quarantined");
    },

    "transcode-hls": (payload, ctx) => deps.hls.job(payload, ctx.signal),

    "render-variant": (payload, ctx) => deps.renders.job(payload, ctx.signal),

    prewarm: (payload) => deps.prewarm.job(payload),

    async "extract-metadata"({ assetId, scanned, reprocess, eager }) {
      const asset = await repos.assets.get(assetId);
      const expected = reprocess ? "ready" : "verified";
      // A retry after the asset became ready but before its eager variants (or its prediction) were queued.
      if (!reprocess && asset?.status === "ready") {
        if (eager?.length) await deps.renders.eager(assetId, eager);
        return deps.prewarm.afterReady(assetId, eager);
      }
      if (!asset || asset.status !== expected || !asset.blobSha256) return;
      const blob = await repos.blobs.get(asset.blobSha256);
      if (!blob) throw new Error(`content record ${asset.blobSha256} missing for asset ${assetId}`);
      const contentType = asset.contentType ?? blob.sniffedType;
      // Missing bytes are a storage fault to retry (and dead-letter), never a verdict on the media.
      if (!(await store.head(blob.storageKey))) throw new BlobNotFoundError(blob.storageKey);

      const source = blobSource(store, blob.storageKey, contentType);
      const probe = deps.probes.find((p) => p.handles(contentType));
      // Unknown types stay with the basic facts (size, type) and still become ready.
      let meta: AssetMeta = {};
      if (engine.canRender(contentType) || probe) {
        try {
          meta = engine.canRender(contentType) ? await engine.describe(source, deps.limits) : await probe!.describe(source);
        } catch (error) {
          // Bytes that cannot be decoded will never decode: fail the asset, do not retry.
          if (isAppError(error) && error.code === "undecodable_media") {
            assertTransition(asset.status, "failed", assetId);
            await repos.assets.transition(assetId, {
              from: asset.status, to: "failed", reason: "metadata extraction: undecodable media", at: clock.now(),
              failure: { code: error.code, message: error.message },
            });
            logger.info({ assetId, reason: error.message }, "asset failed: undecodable media");
            return;
          }
          throw error;
        }
      }
      if (scanned) meta = { ...meta, scan: "clean" };
      if (reprocess) {
        // Re-extraction (e.g. after an upgrade): new facts, same state, scan verdict kept.
        const scan = asset.meta?.scan;
        await repos.assets.replaceMeta(assetId, "ready", scan === undefined ? meta : { ...meta, scan }, clock.now());
        return;
      }
      assertTransition("verified", "ready", assetId);
      await repos.assets.transition(assetId, {
        from: "verified", to: "ready", reason: scanned ? "virus scan clean; metadata extracted" : "metadata extracted",
        at: clock.now(), meta,
      });
      // Eager variants render now, each in a job of its own; then what demand predicts.
      if (eager?.length) await deps.renders.eager(assetId, eager);
      await deps.prewarm.afterReady(assetId, eager);
    },
  };
}
