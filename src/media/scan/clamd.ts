import type { Readable } from "node:stream";
import { AppError } from "../../domain/errors.js";
import type { Scanner, ScanVerdict } from "../../ports/scanner.js";
import { describeClamdAddress, type ClamdAddress } from "../../domain/clamd-address.js";
import { parseScanReply } from "./reply.js";
import { ClamdSession } from "./session.js";

export interface ClamdScannerOptions {
  /**
   * Limit for one whole exchange: connect, send every byte, clamd's scan and its answer.
   * Default 60 s. clamd scans only after the last byte, so very large uploads need more.
   */
  timeoutMs?: number;
  /** Bytes per INSTREAM chunk. Default 64 KiB. */
  chunkBytes?: number;
  /**
   * Set it to clamd's StreamMaxLength to refuse a longer body before sending it all
   * (clamd would refuse it anyway, after receiving that much). Unset: clamd decides.
   */
  maxStreamBytes?: number;
}

/** Readiness must not hang for a minute: a ping gets at most this long. */
const PING_TIMEOUT_MS = 5_000;
/** INSTREAM chunk lengths are 32-bit unsigned big-endian. */
const MAX_CHUNK_BYTES = 0xffff_ffff;

const INSTREAM = Buffer.from("zINSTREAM\0");
const PING = Buffer.from("zPING\0");
/** A zero-length chunk ends the stream. */
const END = Buffer.alloc(4);
const noop = () => {};

/**
 * A `Scanner` backed by clamd at `address` (the parsed `ASSETD_CLAMD` setting: a TCP host
 * and port or a unix socket). Each scan opens a connection and streams the body with INSTREAM
 * (docs.clamav.net, "clamd" manual, INSTREAM): `zINSTREAM\0`, then chunks each prefixed
 * with their 4-byte big-endian length, then a zero-length chunk.
 *
 * clamd's StreamMaxLength (default 100M) must be at least the service's upload limit, else
 * large files cannot be scanned: clamd answers "INSTREAM size limit exceeded. ERROR" and
 * the scan fails with dependency_down (`details.retryable: false`). Its MaxScanSize and
 * MaxFileSize should be raised with it, or clamd stops looking partway and answers OK.
 */
export function createClamdScanner(target: ClamdAddress, options: ClamdScannerOptions = {}): Scanner {
  const label = describeClamdAddress(target);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const maxStreamBytes = options.maxStreamBytes ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be an integer from 1 to ${MAX_CHUNK_BYTES}, got ${chunkBytes}`);
  }
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);

  return {
    async scan(body: NodeJS.ReadableStream | Readable, signal?: AbortSignal): Promise<ScanVerdict> {
      signal?.throwIfAborted();
      const session = new ClamdSession(target, { timeoutMs, signal, label });
      const sessionOver = session.reply.then(noop, noop);
      const chunks = (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      let bodyDone = false;
      let sent = 0;
      try {
        if (await session.send(INSTREAM)) {
          stream: for (;;) {
            // Raced with the session: a stalled body must not outlive a timeout or an abort.
            const next = chunks.next();
            next.catch(noop);
            const step = await Promise.race([next, sessionOver]);
            if (step === undefined) break;
            if (step.done) {
              bodyDone = true;
              await session.send(END);
              break;
            }
            const bytes = toBytes(step.value);
            // An empty piece would be read as the end of the stream: the loop sends none.
            for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
              const piece = bytes.subarray(offset, offset + chunkBytes);
              sent += piece.length;
              if (sent > maxStreamBytes) throw streamTooLong(label, maxStreamBytes);
              if (!(await session.send(frame(piece)))) break stream;
            }
          }
        }
        return parseScanReply(await session.reply, label);
      } finally {
        session.close();
        // Not `chunks.return()`: an async iterator queues it behind a pending `next()`, which
        // a stalled body never settles. Destroying releases the body's file or connection.
        if (!bodyDone) (body as Partial<Readable>).destroy?.();
      }
    },

    async ping(): Promise<void> {
      const session = new ClamdSession(target, { timeoutMs: Math.min(timeoutMs, PING_TIMEOUT_MS), label });
      try {
        await session.send(PING);
        const reply = (await session.reply).trim();
        if (reply !== "PONG") {
          throw new AppError("dependency_down", `unexpected answer to PING from clamd at ${label}: ${JSON.stringify(reply.slice(0, 200))}`,
            { dependency: "clamd" });
        }
      } finally {
        session.close();
      }
    },
  };
}

function frame(piece: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(4 + piece.length);
  framed.writeUInt32BE(piece.length, 0);
  framed.set(piece, 4);
  return framed;
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  throw new TypeError("the scan body must yield bytes (an object-mode stream cannot be scanned)");
}

const streamTooLong = (label: string, limit: number) =>
  new AppError("dependency_down", `the body is longer than clamd's stream limit of ${limit} bytes (clamd at ${label}); raise its StreamMaxLength`,
    { dependency: "clamd", reason: "stream_limit", retryable: false, limit });
