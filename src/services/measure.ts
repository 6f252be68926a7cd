import { createHash, type Hash } from "node:crypto";
import { Transform, Writable, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError, isAppError } from "../domain/errors.js";
import type { BlobStore, StagedObject } from "../ports/blob-store.js";

/**
 * Passes bytes through while hashing them, counting them against a limit and keeping the
 * first few for sniffing. The whole body is never held in memory.
 */
export class MeasuringStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;
  private count = 0;
  private digest: string | undefined;

  constructor(private readonly maxBytes: number, private readonly headBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.maxBytes) {
      callback(new AppError("payload_too_large", `the body exceeds the upload limit of ${this.maxBytes} bytes`, { limit: this.maxBytes }));
      return;
    }
    if (this.headLength < this.headBytes) {
      const take = chunk.subarray(0, this.headBytes - this.headLength);
      this.headChunks.push(Buffer.from(take));
      this.headLength += take.length;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.hash.digest("hex");
    callback();
  }

  get bytes(): number {
    return this.count;
  }

  get head(): Buffer {
    return Buffer.concat(this.headChunks);
  }

  /** Available once the stream has ended. */
  get sha256(): string {
    if (this.digest === undefined) throw new Error("sha256 read before the stream ended");
    return this.digest;
  }
}

export interface MeasureLimits {
  /** More bytes than this fail with payload_too_large. */
  maxBytes: number;
  /** Leading bytes kept for the sniffer (0: none). */
  headBytes: number;
}

/**
 * Streams `body` into staging while measuring it: one pass hashes, counts and keeps the
 * head. When the body fails, aborts or runs over the limit, nothing stays staged.
 */
export async function stageMeasured(
  store: BlobStore,
  body: Readable,
  limits: MeasureLimits & { signal?: AbortSignal | undefined },
): Promise<{ staged: StagedObject; measured: MeasuringStream }> {
  const measured = new MeasuringStream(limits.maxBytes, limits.headBytes);
  // pipeline() destroys `measured` when the body fails or aborts, which makes stage() reject
  // and clean up its staging object.
  pipeline(body, measured).catch(() => {});
  const staged = await store.stage(measured, limits.signal).catch((error: unknown) => {
    // A body over the limit fails `measured`, which also ends the request (and may abort
    // `signal`): the limit is the reason to report, not the abort that followed.
    throw isAppError(measured.errored) ? measured.errored : error;
  });
  if (staged.size !== measured.bytes) {
    await staged.discard();
    throw new AppError("internal", "staged size differs from the bytes received");
  }
  return { staged, measured };
}

/** Measures bytes already staged (read back from the start); discards them when that fails. */
export async function measureStaged(staged: StagedObject, limits: MeasureLimits): Promise<MeasuringStream> {
  const measured = new MeasuringStream(limits.maxBytes, limits.headBytes);
  try {
    await pipeline(await staged.read(), measured, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
  } catch (error) {
    await staged.discard();
    throw error;
  }
  return measured;
}
