import sharp from "sharp";

let configured = false;

/**
 * Process-wide libvips settings, applied once by the first engine created.
 *
 * - Operation cache off: libvips caches recent operations (decoded images, up to 50 MB) and
 *   keeps up to 20 source files open. Our variant store is the cache and single-flight
 *   stops repeats, so libvips' cache would only hold memory and file descriptors to blobs
 *   the store may be moving or deleting (a held fd keeps a deleted file's space in use).
 * - Loader allow-list: libvips picks a loader from the bytes, not from our sniffed type. We
 *   block every loader and re-allow only the formats we serve, so a crafted file cannot
 *   reach the native `.v` loader or any other loader a future libvips build adds.
 *   `raw`/`create` inputs are not loaders, so other engines that hand pixels to sharp
 *   (HEIC, PDF) are unaffected.
 */
export function configureSharp(): void {
  if (configured) return;
  configured = true;
  sharp.cache(false);
  sharp.block({ operation: ["VipsForeignLoad"] });
  sharp.unblock({
    operation: [
      "VipsForeignLoadJpeg",
      "VipsForeignLoadPng",
      "VipsForeignLoadWebp",
      "VipsForeignLoadNsgif",
      "VipsForeignLoadTiff",
      "VipsForeignLoadSvg",
      // AVIF; HEVC-coded HEIC is refused by format before decoding (see header.ts).
      "VipsForeignLoadHeif",
    ],
  });
}
