import type { StorageLocation } from "../domain/storage-url.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Logger } from "../ports/logger.js";
import { createFsStore } from "./fs/fs-store.js";
import { withReadTracking } from "./read-tracking.js";
import { contentDigestOf, createFailoverStore, type FailoverReason } from "./replicated/failover-store.js";
import { partSizeFor } from "./s3/limits.js";
import { createS3Store } from "./s3/s3-store.js";
import { coldKeyOf, createTieredStore } from "./tiered/tiered-store.js";

export interface StoreLayerOptions {
  replica: StorageLocation | undefined;
  coldStorage: StorageLocation | undefined;
  maxUploadBytes: number;
}

export interface StoreLayerHooks {
  /** A read of an original was answered by the replica. */
  onFailover(sha256: string, reason: FailoverReason): void;
  /** An original was read (delivery, a render, a job). Must be cheap: it batches. */
  onRead(sha256: string): void;
}

/**
 * The primary store as the services use it, and its parts as the store-care passes need
 * them. From the inside out: the hot store (ASSETD_STORAGE), the cold tier beside it
 * (keys under `cold/`), read failover to the replica, read tracking.
 */
export interface StoreLayers {
  store: BlobStore;
  /** Both tiers, no failover, no read tracking: what scrub and replication check. */
  primary: BlobStore;
  hot: BlobStore;
  cold: BlobStore | undefined;
  replica: BlobStore | undefined;
  coldKey(key: string): string;
  /** Closes the replica and the cold store (the hot one belongs to its Storage). */
  close(): Promise<void>;
}

/** A plain store at a location: no tus, no upload transport (the replica and the cold tier take no uploads). */
export async function openBlobStore(location: StorageLocation, options: { maxUploadBytes: number; logger: Logger }): Promise<BlobStore> {
  if (location.kind === "fs") return createFsStore(location.root, { logger: options.logger });
  return createS3Store({ ...location, partSize: location.partSize ?? partSizeFor(options.maxUploadBytes), logger: options.logger });
}

export async function createStoreLayers(hot: BlobStore, options: StoreLayerOptions, hooks: StoreLayerHooks, logger: Logger): Promise<StoreLayers> {
  const open = (location: StorageLocation) => openBlobStore(location, { maxUploadBytes: options.maxUploadBytes, logger });
  const cold = options.coldStorage ? await open(options.coldStorage) : undefined;
  const replica = options.replica ? await open(options.replica) : undefined;
  const primary = cold ? createTieredStore(hot, cold) : hot;
  const failover = replica
    ? createFailoverStore(primary, replica, {
      logger,
      onFailover: (key, reason) => {
        const digest = contentDigestOf(key);
        if (digest) hooks.onFailover(digest, reason);
      },
    })
    : primary;
  return {
    store: withReadTracking(failover, hooks.onRead),
    primary, hot, cold, replica,
    coldKey: coldKeyOf,
    async close() {
      await Promise.all([cold?.close(), replica?.close()]);
    },
  };
}
