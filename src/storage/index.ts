import { join } from "node:path";
import type { StorageLocation } from "../domain/storage-url.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { DownloadLinks } from "../ports/download-links.js";
import type { Logger } from "../ports/logger.js";
import type { UploadTransport } from "../ports/upload-transport.js";
import { createFsStore } from "./fs/fs-store.js";
import { createFileTusStaging } from "./fs/tus.js";
import { createServiceUploadTransport } from "./fs/upload-transport.js";
import { partSizeFor } from "./s3/limits.js";
import { createS3Store } from "./s3/s3-store.js";
import { createS3TusStaging } from "./s3/tus.js";
import { createPresignedUploadTransport } from "./s3/upload-transport.js";
import type { TusStaging } from "./tus-staging.js";

/** What the storage layer needs to know (a part of Config, plus the grant secret). */
export interface StorageOptions {
  storage: StorageLocation;
  dataDir: string;
  maxUploadBytes: number;
  uploadSessionTtlSeconds: number;
  /** Signs this service's own upload URLs (the filesystem store's stand-in for presigning). */
  grantSecret: string;
}

/** One backend, whole: the blob store, how direct uploads reach it, and where tus keeps its bytes. */
export interface Storage {
  store: BlobStore;
  /** Presigned downloads straight from the store; undefined for stores that cannot sign (fs). */
  downloads: DownloadLinks | undefined;
  transport: UploadTransport;
  tus: TusStaging;
  close(): Promise<void>;
}

/**
 * Builds the configured backend. tus keeps unfinished uploads beside the blob store:
 * `<dataDir>/tus`, or `<prefix>/tus/` in the bucket.
 */
export async function createStorage(options: StorageOptions, logger: Logger): Promise<Storage> {
  const location = options.storage;
  const expirationMs = options.uploadSessionTtlSeconds * 1000;
  let store: BlobStore;
  let transport: UploadTransport;
  let tus: TusStaging;
  let downloads: DownloadLinks | undefined;
  if (location.kind === "fs") {
    store = await createFsStore(location.root, { logger });
    transport = createServiceUploadTransport(store, { grantSecret: options.grantSecret });
    tus = await createFileTusStaging({ directory: join(options.dataDir, "tus"), expirationMs });
  } else {
    const s3 = await createS3Store({ ...location, partSize: location.partSize ?? partSizeFor(options.maxUploadBytes), logger });
    store = s3;
    transport = createPresignedUploadTransport(s3);
    tus = createS3TusStaging({ ...location, expirationMs });
    downloads = { link: (key, response, seconds) => s3.presignDownload(key, response, seconds) };
  }
  return {
    store, transport, tus, downloads,
    async close() {
      await tus.close();
      await store.close();
    },
  };
}
