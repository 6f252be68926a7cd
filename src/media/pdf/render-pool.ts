import { createRequire } from "node:module";
import { MessageChannel } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { FrameRequest, FrameSource } from "../../ports/frame-source.js";
import type { CpuBudget } from "../../ports/cpu-budget.js";
import { createCpuBudget } from "../cpu-budget.js";
import { MAX_DPI, readPdfBytes, undecodablePdf } from "./render-page.js";
import type { RenderOutcome, RenderTask } from "./render-worker.js";

export interface PdfRenderPoolOptions {
  /** Worker threads, i.e. pages rendered at once; others wait. The composition root passes the CPU budget. */
  threads: number;
  /** A render still running this long after it started is killed (its thread terminated): render_timeout. Default 30 s. */
  timeoutMs?: number;
  /** Larger documents are not read into memory (undecodable_media). Default 128 MiB. */
  maxBytes?: number;
  /** Resolution when the caller gives no targetWidth. Default 150 dpi. */
  defaultDpi?: number;
  /** JavaScript heap of each worker; a document that needs more fails as undecodable_media. Default 1024 MiB. */
  maxHeapMb?: number;
  /** An idle worker exits after this long (a new one starts on demand). Default 60 s. */
  idleTimeoutMs?: number;
  /** The process's CPU budget: a page holds one slot of it while it renders. Default: its own, `threads` slots. */
  budget?: CpuBudget;
}

/** A FrameSource for application/pdf whose renders run on worker threads, each under a deadline. */
export interface PdfRenderPool extends FrameSource {
  /** Renders a page of `bytes` (copied to the worker; the caller keeps its buffer) to PNG. */
  render(bytes: Uint8Array, request: FrameRequest, signal?: AbortSignal): Promise<Buffer>;
  /** Stops the workers; renders still running fail. */
  close(): Promise<void>;
}

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase();

/**
 * Where the worker module is. Compiled (dist/src/media/pdf/render-pool.js), it is the
 * render-worker.js beside this file. Run from sources (vitest, tsx), it is the .ts beside
 * it: worker threads do not inherit the test runner's transform, and on Node 20 ESM loader
 * hooks do not reach worker threads either, so the workers preload tsx's CommonJS hook
 * (tsx is a dev dependency, installed wherever sources run) and piscina's require() of the
 * worker goes through it. Production never takes that branch.
 */
function workerEntry(): { filename: string; execArgv?: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith(".ts")) return { filename: fileURLToPath(new URL("./render-worker.js", import.meta.url)) };
  return {
    filename: fileURLToPath(new URL("./render-worker.ts", import.meta.url)),
    execArgv: [...process.execArgv, "--require", createRequire(import.meta.url).resolve("tsx/cjs")],
  };
}

/**
 * pdfjs parses and draws synchronously for as long as a page takes, and a crafted page
 * (millions of path operators) takes minutes: on the main thread that freezes every request
 * (issue 13, finding 1). Here each page renders on a piscina worker thread; the main thread
 * only reads the bytes and waits. When the deadline passes, piscina terminates that thread
 * (V8 stops it between two canvas calls), a fresh one replaces it, and the caller gets
 * `422 render_timeout`. The deadline counts from the moment a thread takes the page: a
 * page waits for a slot of the CPU budget before it reaches the pool, and the worker reports
 * when it begins.
 */
export function createPdfRenderPool(options: PdfRenderPoolOptions): PdfRenderPool {
  const { threads } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  const defaultDpi = options.defaultDpi ?? 150;
  const maxHeapMb = options.maxHeapMb ?? 1024;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
  if (!(defaultDpi > 0 && defaultDpi <= MAX_DPI)) throw new RangeError(`defaultDpi must be in (0, ${MAX_DPI}], got ${defaultDpi}`);
  if (!(maxHeapMb >= 64)) throw new RangeError(`maxHeapMb must be at least 64, got ${maxHeapMb}`);

  const pool = new Piscina<RenderTask, RenderOutcome>({
    ...workerEntry(),
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: options.idleTimeoutMs ?? 60_000,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
  });
  // Pages wait for a slot of the budget before they reach the pool, so a busy pool does
  // not time out pages that never started.
  const budget = options.budget ?? createCpuBudget({ slots: threads });

  async function runOnWorker(bytes: Uint8Array, request: FrameRequest, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted(); // it may have waited for a slot
    const deadline = new AbortController();
    const expire = () => deadline.abort();
    // The clock restarts when the worker reports that it took the page, so a thread's start
    // (loading pdfjs, ~0.1-2 s) is not charged to the page; a start that never comes
    // within the same time expires too.
    let timer = setTimeout(expire, timeoutMs);
    const started = new MessageChannel();
    started.port1.once("message", () => {
      clearTimeout(timer);
      timer = setTimeout(expire, timeoutMs);
    });
    const stop = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
    // A transferable copy of exactly these bytes (a Buffer may be a view of a shared pool).
    const data = new Uint8Array(bytes);
    let outcome: RenderOutcome;
    try {
      outcome = await pool.run(
        { bytes: data, request: { ...request }, defaultDpi, started: started.port2 },
        { signal: stop, transferList: [data.buffer, started.port2] },
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.signal.aborted) {
        throw new AppError("render_timeout", `the PDF page did not render within ${timeoutMs} ms`, { timeoutMs }, { cause: error });
      }
      // The worker died under the page (its heap limit, or a crash in native code).
      if ((error as NodeJS.ErrnoException | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY") throw undecodablePdf(error);
      throw error;
    } finally {
      clearTimeout(timer);
      started.port1.close();
    }
    if (!outcome.ok) throw new AppError(outcome.code, outcome.message, outcome.details);
    return Buffer.from(outcome.png.buffer, outcome.png.byteOffset, outcome.png.byteLength);
  }

  const checkPage = (request: FrameRequest) => {
    if (request.page !== undefined && !(Number.isInteger(request.page) && request.page >= 1)) {
      throw new InvalidParameterError("page", "page must be a whole number, 1 or more");
    }
  };

  return {
    handles: (contentType) => mediaType(contentType) === "application/pdf",

    async frame(source, request, signal, slot) {
      checkPage(request);
      // Read once a slot is free, so waiting pages do not hold their documents in memory.
      return budget.run(async () => runOnWorker(await readPdfBytes(source, maxBytes), request, signal), { signal, within: slot, patient: true });
    },

    async render(bytes, request, signal) {
      checkPage(request);
      if (bytes.length > maxBytes) throw undecodablePdf(new Error(`the document is larger than the ${maxBytes}-byte render limit`));
      return budget.run(() => runOnWorker(bytes, request, signal), { signal, patient: true });
    },

    close: () => pool.destroy(),
  };
}
