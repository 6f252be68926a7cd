import type { AssetRow } from "./asset.js";
import { AppError } from "./errors.js";
import { isServable } from "./states.js";

/** What a request wants of an asset's content: the stored bytes, a rendered variant, an HLS stream. */
export type Delivery = "original" | "variant" | "stream";

/**
 * Which asset states may be delivered, in one place for every delivery path: undefined
 * when the content may go out as `what`, else the error to answer with.
 *
 * - Quarantined content is never served.
 * - With a virus scanner configured, content waits for its scan (verified -> ready).
 * - A failed asset with stored bytes still serves its original (the bytes are what the
 *   owner uploaded; only processing failed), but no variant and no stream.
 * - Streams start once the asset is ready.
 */
export function servingRefusal(
  asset: Pick<AssetRow, "status" | "blobSha256" | "failure">,
  what: Delivery,
  options: { scanning: boolean },
): AppError | undefined {
  const { status } = asset;
  if (status === "quarantined") {
    return new AppError("quarantined", "the virus scanner flagged this file; it is not served", { status });
  }
  if (status === "failed" && asset.blobSha256) {
    if (what === "original") return undefined;
    if (what === "stream") return new AppError("undecodable_media", asset.failure?.message ?? "the video could not be read");
    return new AppError(asset.failure?.code === "undecodable_media" ? "undecodable_media" : "state_conflict",
      asset.failure?.message ?? "the asset failed processing", { status });
  }
  if (what === "stream" && status !== "ready") {
    return new AppError("state_conflict", `the asset is ${status}; streams start once it is ready`);
  }
  if (options.scanning && status === "verified") {
    return new AppError("state_conflict", "the file is waiting for its virus scan", { status });
  }
  if (!isServable(status) || !asset.blobSha256) {
    return new AppError("state_conflict", `the asset is ${status}, not servable`, { status });
  }
  return undefined;
}
