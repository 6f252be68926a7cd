import { availableParallelism } from "node:os";
import { InvalidParameterError } from "../../domain/errors.js";
import type { CpuBudget } from "../../ports/cpu-budget.js";
import type { FrameRequest, FrameSource } from "../../ports/frame-source.js";
import type { ProbeSource } from "../../ports/media-probe.js";
import { createCpuBudget } from "../cpu-budget.js";
import { asRenderError, MAX_DPI, readPdfBytes, renderPdfPage } from "./render-page.js";

export { pageScale } from "./render-page.js";

export interface PdfPageSourceOptions {
  /** A render is abandoned (and the document destroyed) after this long. Default 30 s. */
  timeoutMs?: number;
  /** Larger documents are not read into memory (undecodable_media). Default 128 MiB. */
  maxBytes?: number;
  /** Resolution when the caller gives no targetWidth. Default 150 dpi. */
  defaultDpi?: number;
  /** Bounds page renders, with the process's other media work; default its own, one slot per CPU. */
  budget?: CpuBudget;
}

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase();

class RenderTimeout extends Error {}

/**
 * Renders one PDF page to PNG with pdfjs-dist (Apache-2.0; never mupdf, AGPL) onto an
 * @napi-rs/canvas canvas with a white background, on this thread (render-page.ts). A step
 * that never yields cannot be interrupted here: createPdfRenderPool (render-pool.ts) runs
 * the same renderer on worker threads and terminates them at the deadline.
 */
export function createPdfPageSource(options: PdfPageSourceOptions = {}): FrameSource {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  const defaultDpi = options.defaultDpi ?? 150;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
  if (!(defaultDpi > 0 && defaultDpi <= MAX_DPI)) throw new RangeError(`defaultDpi must be in (0, ${MAX_DPI}], got ${defaultDpi}`);
  const budget = options.budget ?? createCpuBudget({ slots: Math.max(1, availableParallelism()) });

  async function render(source: ProbeSource, request: FrameRequest, signal?: AbortSignal): Promise<Buffer> {
    const bytes = await readPdfBytes(source, maxBytes);
    signal?.throwIfAborted();

    // pdfjs works on this thread in promise callbacks, so every step is raced against the
    // deadline and the abort signal and checked against the clock afterwards (see probe.ts).
    const deadlineAt = performance.now() + timeoutMs;
    const timedOut = () => new RenderTimeout(`PDF render timed out after ${timeoutMs} ms`);
    let timer: NodeJS.Timeout | undefined;
    let cancelRender: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        cancelRender?.();
        reject(timedOut());
      }, timeoutMs);
      onAbort = () => {
        cancelRender?.();
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    stop.catch(() => {}); // raced below; never an unhandled rejection on its own
    const step = async <T>(work: Promise<T>): Promise<T> => {
      const value = await Promise.race([stop, work]);
      signal?.throwIfAborted();
      if (performance.now() > deadlineAt) throw timedOut();
      return value;
    };

    try {
      return await renderPdfPage(bytes, request, defaultDpi, {
        step,
        onCancelable: (cancel) => { cancelRender = cancel; },
      });
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw asRenderError(error);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  return {
    handles: (contentType) => mediaType(contentType) === "application/pdf",

    frame(source, request, signal, slot) {
      if (request.page !== undefined && !(Number.isInteger(request.page) && request.page >= 1)) {
        return Promise.reject(new InvalidParameterError("page", "page must be a whole number, 1 or more"));
      }
      // The budget checks the signal once the slot is ours: it may have waited.
      return budget.run(() => render(source, request, signal), { signal, within: slot, patient: true });
    },
  };
}
