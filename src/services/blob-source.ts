import type { BlobStore } from "../ports/blob-store.js";
import type { ImageSource } from "../ports/image-engine.js";

/**
 * What an engine reads for a stored object: its local file when the store keeps one
 * (libvips, ffmpeg and ffprobe then read and seek it in place), else its bytes.
 */
export function blobSource(store: BlobStore, storageKey: string, contentType: string): ImageSource {
  return { path: store.localPath?.(storageKey), read: () => store.read(storageKey), contentType };
}
