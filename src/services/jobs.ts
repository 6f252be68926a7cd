import { isAppError } from "../domain/errors.js";
import { assertTransition } from "../domain/states.js";
import { BlobNotFoundError, type BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { ImageEngine, RenderLimits } from "../ports/image-engine.js";
import type { JobHandlers } from "../ports/job-queue.js";
import type { MediaProbe } from "../ports/media-probe.js";
import type { Logger } from "../ports/logger.js";
import type { AssetMeta, Repos } from "../ports/repos.js";

export interface JobDeps {
  repos: Repos;
  store: BlobStore;
  engine: ImageEngine;
  /** Describers for what the image engine does not read: audio/video, PDF. */
  probes: readonly MediaProbe[];
  clock: Clock;
  logger: Logger;
  limits: RenderLimits;
}

/** Background job handlers by name. Each is idempotent: it acts only on the state it expects. */
export function createJobHandlers(deps: JobDeps): JobHandlers {
  const { repos, store, engine, clock, logger } = deps;

  return {
    async "extract-metadata"({ assetId }) {
      const asset = await repos.assets.get(assetId);
      if (!asset || asset.status !== "verified" || !asset.blobSha256) return;
      const blob = await repos.blobs.get(asset.blobSha256);
      if (!blob) throw new Error(`content record ${asset.blobSha256} missing for asset ${assetId}`);
      const contentType = asset.contentType ?? blob.sniffedType;
      // Missing bytes are a storage fault to retry (and dead-letter), never a verdict on the media.
      if (!(await store.head(blob.storageKey))) throw new BlobNotFoundError(blob.storageKey);

      const source = { path: store.localPath?.(blob.storageKey), read: () => store.read(blob.storageKey), contentType };
      const probe = deps.probes.find((p) => p.handles(contentType));
      // Unknown types stay with the basic facts (size, type) and still become ready.
      let meta: AssetMeta = {};
      if (engine.canRender(contentType) || probe) {
        try {
          meta = engine.canRender(contentType) ? await engine.describe(source, deps.limits) : await probe!.describe(source);
        } catch (error) {
          // Bytes that cannot be decoded will never decode: fail the asset, do not retry.
          if (isAppError(error) && error.code === "undecodable_media") {
            assertTransition("verified", "failed", assetId);
            await repos.assets.transition(assetId, {
              from: "verified", to: "failed", reason: "metadata extraction: undecodable media", at: clock.now(),
              failure: { code: error.code, message: error.message },
            });
            logger.info({ assetId, reason: error.message }, "asset failed: undecodable media");
            return;
          }
          throw error;
        }
      }
      assertTransition("verified", "ready", assetId);
      await repos.assets.transition(assetId, {
        from: "verified", to: "ready", reason: "metadata extracted", at: clock.now(), meta,
      });
    },
  };
}
