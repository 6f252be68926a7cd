import type { Config } from "../config/index.js";
import type { Capabilities } from "../domain/capabilities.js";
import type { BlobStore } from "../ports/blob-store.js";

/** What `GET /v1/capabilities` tells clients about the upload paths. */
export function capabilitiesOf(config: Config, store: BlobStore): Capabilities {
  return {
    maxUploadBytes: config.maxUploadBytes,
    uploads: {
      direct: store.capabilities.presign ? "store" : "service",
      multipartThreshold: config.multipartThreshold,
      partSize: config.partSize,
      urlTtlSeconds: config.uploadUrlTtlSeconds,
      sessionTtlSeconds: config.uploadSessionTtlSeconds,
    },
    tus: { endpoint: "/v1/tus", version: "1.0.0", maxSize: config.maxUploadBytes },
    allowedTypes: config.allowedTypes,
  };
}
