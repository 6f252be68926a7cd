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

  constructor(private readonly maxBytes: number, private readonly headBytes: number, private readonly quota?: StreamQuota) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.maxBytes) {
      callback(new AppError("payload_too_large", `the body exceeds the upload limit of ${this.maxBytes} bytes`, { limit: this.maxBytes }));
      return;
    }
    // A body without a declared size cannot be reserved up front: it stops at the owner's
    // remaining quota instead of being written out first and refused afterwards.
    if (this.quota && this.count > this.quota.availableBytes) {
      callback(this.quota.exceeded(this.count));
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

/** The owner's remaining quota as a second limit on a stream, and the error past it. */
export interface StreamQuota {
  availableBytes: number;
  exceeded(bytes: number): AppError;
}

export interface MeasureLimits {
  /** More bytes than this fail with payload_too_large. */
  maxBytes: number;
  /** Leading bytes kept for the sniffer (0: none). */
  headBytes: number;
  quota?: StreamQuota | undefined;
  /** A body that sends nothing for this long fails with request_timeout (0 or absent: no limit). */
  idleMs?: number | undefined;
  /**
   * With `idleMs`: a body that sends fewer than this many bytes a second, over any window of
   * `idleMs`, fails with request_timeout too (a trickle is as bad as silence). 0: no floor.
   */
  minBytesPerSecond?: number | undefined;
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
  const measured = new MeasuringStream(limits.maxBytes, limits.headBytes, limits.quota);
  const idle = limits.idleMs ? watchIdle(body, measured, limits.idleMs, limits.minBytesPerSecond ?? 0) : undefined;
  feed(body, measured);
  const staged = await store.stage(measured, limits.signal).catch((error: unknown) => {
    // A body over the limit fails `measured`, which also ends the request (and may abort
    // `signal`): the limit is the reason to report, not the abort that followed.
    throw isAppError(measured.errored) ? measured.errored : error;
  }).finally(() => idle?.stop());
  if (staged.size !== measured.bytes) {
    await staged.discard();
    throw new AppError("internal", "staged size differs from the bytes received");
  }
  return { staged, measured };
}

/**
 * Pipes the body into `measured`. A body that fails or is cut off destroys `measured`, which
 * makes stage() reject and discard its staging object. When `measured` refuses the body
 * (a limit, the quota, a timeout) the body is only unpiped, never destroyed: the request
 * stays open for the HTTP layer to answer the refusal before it closes the connection,
 * so a client still writing reads its 403/408/413 instead of a reset.
 */
function feed(body: Readable, measured: MeasuringStream): void {
  const cutOff = () => {
    if (!body.readableEnded) measured.destroy(new Error("the request body ended early"));
  };
  body.on("error", (error) => measured.destroy(error));
  body.once("close", cutOff);
  measured.once("error", () => {
    body.off("close", cutOff);
    body.unpipe(measured);
  });
  body.pipe(measured);
}

/**
 * Slow-loris uploads (a few bytes, then silence, or a trickle) would hold a connection and
 * a staging object for hours: a body that makes no progress for `idleMs`, or sends less
 * than `minBytesPerSecond` over a window of `idleMs`, is failed, which destroys the request
 * (its connection closes) and makes staging discard what it had.
 */
function watchIdle(body: Readable, measured: MeasuringStream, idleMs: number, minBytesPerSecond: number): { stop(): void } {
  let timer: NodeJS.Timeout;
  let windowBytes = 0;
  const floor = (minBytesPerSecond * idleMs) / 1000;
  const fail = (message: string) => measured.destroy(new AppError("request_timeout", message, { idleMs, minBytesPerSecond }));
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => fail(`the upload sent nothing for ${idleMs} ms`), idleMs);
    timer.unref();
  };
  const onData = (chunk: Buffer) => {
    windowBytes += chunk.length;
    arm();
  };
  const rate = floor > 0
    ? setInterval(() => {
      if (windowBytes < floor) fail(`the upload is slower than ${minBytesPerSecond} bytes a second`);
      windowBytes = 0;
    }, idleMs)
    : undefined;
  rate?.unref();
  body.on("data", onData);
  arm();
  return {
    stop() {
      clearTimeout(timer);
      clearInterval(rate);
      body.off("data", onData);
    },
  };
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
