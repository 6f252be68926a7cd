import type { Readable } from "node:stream";
import type { ByteRange, BlobStore } from "../ports/blob-store.js";
import type { OriginalScrubber } from "../ports/original-scrubber.js";
import { ByteCache } from "./byte-cache.js";

/** What a non-owner is served for one blob: the stored bytes, or a copy without location. */
export interface PrivateOriginal {
  /** The entity tag, unquoted: the blob's sha256, suffixed `-nogps` when location was removed. */
  etag: string;
  size: number;
  open(range?: ByteRange): Promise<Readable | Buffer> | Buffer;
}

export interface BlobRef {
  sha256: string;
  size: number;
  storageKey: string;
}

const KNOWN_CLEAN_ENTRIES = 100_000;

/**
 * Originals as non-owners receive them (DESIGN §10 "Location privacy"). The scrubbed copy
 * is a pure function of the blob and cheap to make again (a scan of its metadata, no
 * decoding), so it is kept in a byte-bounded memory LRU rather than stored: a stored copy
 * would need its own rows, gc and eviction for bytes that are always recomputable. Blobs
 * found to carry no location are remembered by sha256 and then stream from the store as
 * they are, so an ordinary photo costs one scan per process, not one per request.
 */
export function createLocationPrivateOriginals(deps: { store: BlobStore; scrubbers: readonly OriginalScrubber[]; cacheBytes: number }) {
  const { store, scrubbers } = deps;
  // Entries up to a quarter of the budget: a scrubbed photo is usually a few MB.
  const scrubbed = new ByteCache<{ data: Buffer }>(deps.cacheBytes, Math.max(1, Math.floor(deps.cacheBytes / 4)));
  const clean = new Set<string>();
  const pending = new Map<string, Promise<Buffer | undefined>>();

  function rememberClean(sha256: string): void {
    if (clean.size >= KNOWN_CLEAN_ENTRIES) clean.delete(clean.values().next().value as string);
    clean.add(sha256);
  }

  /** The scrubbed bytes, or undefined when the blob has no location to remove. */
  async function scrubbedBytes(blob: BlobRef, scrubber: OriginalScrubber): Promise<Buffer | undefined> {
    const cached = scrubbed.get(blob.sha256);
    if (cached) return cached.data;
    if (clean.has(blob.sha256)) return undefined;
    let flight = pending.get(blob.sha256);
    if (!flight) {
      flight = (async () => {
        const { bytes, removed } = await scrubber.scrub(await store.read(blob.storageKey));
        if (!removed) {
          rememberClean(blob.sha256);
          return undefined;
        }
        scrubbed.set(blob.sha256, { data: bytes });
        return bytes;
      })().finally(() => pending.delete(blob.sha256));
      pending.set(blob.sha256, flight);
    }
    return flight;
  }

  async function serve(blob: BlobRef, contentType: string): Promise<PrivateOriginal> {
    const untouched: PrivateOriginal = { etag: blob.sha256, size: blob.size, open: (range) => store.get(blob.storageKey, range) };
    const scrubber = scrubbers.find((candidate) => candidate.handles(contentType));
    if (!scrubber) return untouched;
    const bytes = await scrubbedBytes(blob, scrubber);
    if (!bytes) return untouched;
    return {
      etag: `${blob.sha256}-${scrubber.etagSuffix}`, size: bytes.length,
      open: (range) => (range ? bytes.subarray(range.start, range.end + 1) : bytes),
    };
  }

  return { serve };
}

export type LocationPrivateOriginals = ReturnType<typeof createLocationPrivateOriginals>;
