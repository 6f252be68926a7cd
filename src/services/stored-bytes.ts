import { createHash } from "node:crypto";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobNotFoundError, type BlobStore } from "../ports/blob-store.js";

/** Paces a reader to a byte rate. */
export interface Throttle {
  take(bytes: number): Promise<void>;
}

/**
 * At most `bytesPerSecond` on average (0: unlimited), so a maintenance pass leaves the disk
 * and the cores to delivery. Paced per chunk: the reader sleeps as soon as it is ahead.
 */
export function rateLimit(bytesPerSecond: number, now: () => number = () => performance.now()): Throttle {
  if (bytesPerSecond <= 0) return { take: async () => {} };
  let started: number | undefined;
  let taken = 0;
  return {
    async take(bytes) {
      started ??= now();
      taken += bytes;
      const due = started + (taken / bytesPerSecond) * 1000;
      const wait = due - now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    },
  };
}

/** Hashes what passes through (and paces it), for a copy that must arrive intact. */
function hashing(throttle?: Throttle) {
  const hash = createHash("sha256");
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      if (!throttle) return done(null, chunk);
      throttle.take(chunk.length).then(() => done(null, chunk), done);
    },
  });
  return { stream, result: () => ({ sha256: hash.digest("hex"), size }) };
}

/** The stored object's digest and size; undefined when there is no object. */
export async function hashStored(store: BlobStore, key: string, throttle?: Throttle): Promise<{ sha256: string; size: number } | undefined> {
  let source: Readable;
  try {
    source = await store.get(key);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return undefined;
    throw error;
  }
  const { stream, result } = hashing(throttle);
  await pipeline(source, stream, async function* drain(chunks) {
    for await (const _ of chunks) { /* hashed on the way */ }
  });
  return result();
}

export type CopyOutcome = "copied" | "missing" | "corrupt";

/**
 * Copies `fromKey` to `toKey` only if the bytes hash to `sha256` on the way; a copy that
 * does not is discarded, so the target never receives bad bytes. `replace` removes an
 * object already at `toKey` first (a corrupt copy being repaired).
 */
export async function copyVerified(
  from: BlobStore, fromKey: string, to: BlobStore, toKey: string, sha256: string, options: { replace?: boolean; throttle?: Throttle } = {},
): Promise<CopyOutcome> {
  let source: Readable;
  try {
    source = await from.get(fromKey);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return "missing";
    throw error;
  }
  const { stream, result } = hashing(options.throttle);
  source.on("error", (error) => stream.destroy(error));
  const staged = await to.stage(source.pipe(stream));
  if (result().sha256 !== sha256) {
    await staged.discard();
    return "corrupt";
  }
  if (options.replace) await to.delete(toKey);
  await staged.commit(toKey);
  return "copied";
}
