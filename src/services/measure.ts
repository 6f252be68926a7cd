import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { AppError } from "../domain/errors.js";

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
