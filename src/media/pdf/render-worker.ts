import type { MessagePort } from "node:worker_threads";
import type { ErrorCode } from "../../domain/errors.js";
import type { FrameRequest } from "../../ports/frame-source.js";
import { loadPdfjs } from "./pdfjs.js";
import { asRenderError, renderPdfPage } from "./render-page.js";

/**
 * The worker-thread side of createPdfRenderPool (render-pool.ts): piscina loads this module
 * in each worker and calls the default export once per page. The thread may be terminated
 * at any moment (the pool's deadline), so nothing here holds state worth keeping.
 */

export interface RenderTask {
  /** The whole document, transferred from the main thread. */
  bytes: Uint8Array;
  request: FrameRequest;
  defaultDpi: number;
  /** Told when this thread starts on the page: the pool's deadline runs from then. */
  started: MessagePort;
}

/**
 * Errors do not survive the trip between threads as AppErrors (structured clone keeps only
 * message and stack), so a failure travels as its catalog fields and is rebuilt there.
 */
export type RenderOutcome =
  | { ok: true; png: Uint8Array }
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };

// Loading starts with the worker; a task waits for it before it reports its start, so no
// deadline is spent importing pdfjs. A failure here surfaces per task as dependency_down,
// from the same loaders. (No top-level await: piscina loads this module with require() first,
// which is how tsx's transform reaches worker threads when tests run the sources.)
const libraries = Promise.allSettled([loadPdfjs(), import("@napi-rs/canvas")]);

export default async function renderTask(task: RenderTask): Promise<RenderOutcome> {
  await libraries;
  task.started.postMessage("started");
  task.started.close();
  try {
    const png = await renderPdfPage(task.bytes, task.request, task.defaultDpi);
    return { ok: true, png };
  } catch (error) {
    const failure = asRenderError(error);
    return { ok: false, code: failure.code, message: failure.message, details: failure.details };
  }
}
