import { createRequire } from "node:module";
import { MessageChannel } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { AppError } from "../../domain/errors.js";
import type { DecodedPixels, DecodeOutcome, DecodeTask } from "./heif-decode-worker.js";

export type { DecodedPixels } from "./heif-decode-worker.js";

export interface HeifDecoderOptions {
  /** Worker threads, i.e. images decoded at once; others wait. */
  threads: number;
  /** A decode still running this long after it started is stopped (its thread terminated): render_timeout. Default 30 s. */
  timeoutMs?: number;
  /** An idle worker exits after this long (a new one starts on demand). Default 60 s. */
  idleTimeoutMs?: number;
}

/** Decodes the primary image of a HEIC/HEIF file to interleaved 8-bit pixels, off the event loop. */
export interface HeifDecoder {
  /** `bytes` are copied to the worker (the caller keeps its buffer). Refuses images over `maxPixels`. */
  decode(bytes: Uint8Array, maxPixels: number): Promise<DecodedPixels>;
  close(): Promise<void>;
}

/** As the PDF pool does (media/pdf/render-pool.ts): the .js beside this file, or the .ts through tsx when sources run. */
function workerEntry(): { filename: string; execArgv?: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith(".ts")) return { filename: fileURLToPath(new URL("./heif-decode-worker.js", import.meta.url)) };
  return {
    filename: fileURLToPath(new URL("./heif-decode-worker.ts", import.meta.url)),
    execArgv: [...process.execArgv, "--require", createRequire(import.meta.url).resolve("tsx/cjs")],
  };
}

/**
 * sharp's prebuilt libvips reads HEIF headers but has no HEVC decoder, so HEIC pixels come
 * from libheif's WASM build (PLATFORM.md). A decode is synchronous WebAssembly for as long as
 * the image takes, so each runs on a piscina worker thread; past the deadline the thread is
 * terminated and the caller gets `422 render_timeout`. The caller holds the CPU budget slot
 * and has already refused an image over the pixel limit from its header.
 */
export function createHeifDecoder(options: HeifDecoderOptions): HeifDecoder {
  const { threads } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  const pool = new Piscina<DecodeTask, DecodeOutcome>({
    ...workerEntry(),
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: options.idleTimeoutMs ?? 60_000,
  });

  async function decode(bytes: Uint8Array, maxPixels: number): Promise<DecodedPixels> {
    const deadline = new AbortController();
    const expire = () => deadline.abort();
    // The clock restarts when the worker takes the image, so loading libheif is not charged to it.
    let timer = setTimeout(expire, timeoutMs);
    const started = new MessageChannel();
    started.port1.once("message", () => {
      clearTimeout(timer);
      timer = setTimeout(expire, timeoutMs);
    });
    const data = new Uint8Array(bytes);
    let outcome: DecodeOutcome;
    try {
      outcome = await pool.run(
        { bytes: data, maxPixels: Number.isFinite(maxPixels) ? maxPixels : Number.MAX_SAFE_INTEGER, started: started.port2 },
        { signal: deadline.signal, transferList: [data.buffer, started.port2] },
      );
    } catch (error) {
      if (deadline.signal.aborted) {
        throw new AppError("render_timeout", `the HEIF image did not decode within ${timeoutMs} ms`, { timeoutMs }, { cause: error });
      }
      // The worker died under the image (out of memory, or a crash in the decoder).
      throw new AppError("undecodable_media", "the HEIF image could not be decoded", {}, { cause: error });
    } finally {
      clearTimeout(timer);
      started.port1.close();
    }
    if (!outcome.ok) throw new AppError(outcome.code, outcome.message, outcome.details);
    return { data: outcome.data, width: outcome.width, height: outcome.height, channels: outcome.channels };
  }

  return { decode, close: () => pool.destroy() };
}
