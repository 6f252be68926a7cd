import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { BlobNotFoundError, type BlobStore, type ByteRange } from "../../ports/blob-store.js";
import { silentLogger, type Logger } from "../../ports/logger.js";

/** Why a read was answered by the replica. */
export type FailoverReason = "missing" | "error" | "corrupt";

export interface FailoverOptions {
  /** A read of `key` was answered by the replica: the primary needs a repair. */
  onFailover(key: string, reason: FailoverReason): void;
  logger?: Logger;
  /**
   * Whole reads of originals up to this size are hashed before the first byte goes out,
   * so a corrupt primary object is answered from the replica, byte-exact. Larger ones are
   * hashed as they stream and cut off (the client sees an error, never wrong bytes
   * quietly) when they turn out corrupt.
   */
  verifyBufferBytes?: number;
}

const DEFAULT_VERIFY_BUFFER = 4 * 1024 * 1024;

/** `raw/ab/cd/<sha256>` -> the digest: originals are the replicated content, named by their hash. */
export function contentDigestOf(key: string): string | undefined {
  const match = /^(?:cold\/)?raw\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(key);
  return match?.[1];
}

/** The replica keeps every original under its plain content key, whatever tier the primary uses. */
export function replicaKeyOf(key: string): string {
  return key.startsWith("cold/") ? key.slice("cold/".length) : key;
}

const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * Read failover in one place: a BlobStore over the primary whose reads of originals fall
 * back to the replica when the primary has no object, fails, or holds bytes that do not
 * hash to their content address. Writes go to the primary only (the `replicate` job copies
 * new content); deletes of originals go to both. Other keys (variants, HLS ladders) are
 * derived and can be rendered again: they pass straight through.
 */
export function createFailoverStore(primary: BlobStore, replica: BlobStore, options: FailoverOptions): BlobStore {
  const logger = options.logger ?? silentLogger;
  const verifyBuffer = options.verifyBufferBytes ?? DEFAULT_VERIFY_BUFFER;

  function failedOver(key: string, reason: FailoverReason, error?: unknown): void {
    logger.warn({ key, reason, err: error }, "read answered by the replica");
    options.onFailover(key, reason);
  }

  /** Runs `read` on the primary; on a miss, an error or corrupt bytes, on the replica. */
  async function withFallback<T>(key: string, read: (store: BlobStore, key: string) => Promise<T>, check?: (value: T) => boolean): Promise<T> {
    let reason: FailoverReason;
    let cause: unknown;
    try {
      const value = await read(primary, key);
      if (!check || check(value)) return value;
      reason = "corrupt";
    } catch (error) {
      if (error instanceof RangeError) throw error;
      reason = error instanceof BlobNotFoundError ? "missing" : "error";
      cause = error;
    }
    let value: T;
    try {
      value = await read(replica, replicaKeyOf(key));
    } catch (replicaError) {
      // Neither copy answers: report the primary's failure, which names the real problem.
      if (reason === "corrupt") throw replicaError;
      throw cause;
    }
    if (check && !check(value)) throw new Error(`both copies of ${key} are corrupt`);
    failedOver(key, reason, cause);
    return value;
  }

  /** A stream that hashes what passes and fails at the end when the bytes are not `digest`. */
  function verifying(source: Readable, key: string, digest: string): Readable {
    const hash = createHash("sha256");
    const check = new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done: TransformCallback) {
        if (hash.digest("hex") === digest) return done();
        failedOver(key, "corrupt");
        done(new Error(`the stored bytes of ${key} do not match their content address`));
      },
    });
    source.on("error", (error) => check.destroy(error));
    return source.pipe(check);
  }

  return {
    get capabilities() { return primary.capabilities; },
    stage: (body, signal) => primary.stage(body, signal),
    put: (key, body) => primary.put(key, body),
    adopt: (key) => primary.adopt(key),
    list: (prefix) => primary.list(prefix),
    ping: () => primary.ping(),

    async get(key: string, range?: ByteRange) {
      const digest = contentDigestOf(key);
      if (!digest) return primary.get(key, range);
      if (range) return withFallback(key, (store, k) => store.get(k, range));
      const head = await primary.head(key).catch(() => undefined);
      if (head && head.size <= verifyBuffer) {
        const bytes = await withFallback(key, (store, k) => store.read(k), (b) => sha256Of(b) === digest);
        return Readable.from([bytes]);
      }
      return verifying(await withFallback(key, (store, k) => store.get(k)), key, digest);
    },

    async read(key: string) {
      const digest = contentDigestOf(key);
      if (!digest) return primary.read(key);
      return withFallback(key, (store, k) => store.read(k), (bytes) => sha256Of(bytes) === digest);
    },

    async head(key: string) {
      if (!contentDigestOf(key)) return primary.head(key);
      return withFallback(key, async (store, k) => {
        const found = await store.head(k);
        if (!found) throw new BlobNotFoundError(k);
        return { key, size: found.size };
      }).catch((error: unknown) => {
        if (error instanceof BlobNotFoundError) return undefined;
        throw error;
      });
    },

    async delete(key: string) {
      await primary.delete(key);
      if (contentDigestOf(key)) await replica.delete(replicaKeyOf(key));
    },

    ...(primary.localPath ? {
      localPath(key: string) {
        // Engines read this file in place. When the primary lost it, they get no path and
        // read through `read`, which answers from the replica.
        const path = primary.localPath!(key);
        if (path === undefined || !contentDigestOf(key) || existsSync(path)) return path;
        return undefined;
      },
    } : {}),

    async close() {
      await Promise.all([primary.close(), replica.close()]);
    },
  };
}
