import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { CpuBudget } from "../../ports/cpu-budget.js";
import type { FrameRequest, FrameSource } from "../../ports/frame-source.js";
import type { ProbeSource } from "../../ports/media-probe.js";
import { createCpuBudget } from "../cpu-budget.js";
import { loadPdfjs } from "./pdfjs.js";

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

/** A page is never rasterised finer than this, however large the requested width. */
const MAX_DPI = 600;
/** Skia's (and most canvases') limit on either side. */
const MAX_SIDE = 32_767;

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase();

const undecodable = (cause: unknown) =>
  new AppError("undecodable_media", "the PDF document could not be rendered", {}, { cause });

class RenderTimeout extends Error {}

/**
 * pdfjs-dist's own data files, read from local disk: the 14 standard fonts (for text in
 * fonts a PDF names but does not embed), CMaps (CJK encodings) and its wasm decoders
 * (JPEG 2000, JBIG2). Without them such text/images would silently be missing.
 */
function pdfjsDataDirs() {
  const root = dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json"));
  return {
    standardFontDataUrl: join(root, "standard_fonts") + "/",
    cMapUrl: join(root, "cmaps") + "/",
    cMapPacked: true,
    wasmUrl: join(root, "wasm") + "/",
  };
}
let dataDirs: ReturnType<typeof pdfjsDataDirs> | undefined;

/** Output size for a page of `width` x `height` points. */
export function pageScale(
  width: number, height: number, request: Pick<FrameRequest, "targetWidth" | "maxPixels">, defaultDpi: number,
): number {
  let scale = request.targetWidth !== undefined && request.targetWidth > 0
    ? (request.targetWidth * 2) / width // twice the final width: crisp after the downscale
    : defaultDpi / 72;
  scale = Math.min(scale, MAX_DPI / 72, MAX_SIDE / width, MAX_SIDE / height);
  const pixels = width * scale * height * scale;
  if (pixels > request.maxPixels) scale *= Math.sqrt(request.maxPixels / pixels);
  return scale;
}

/**
 * Renders one PDF page to PNG with pdfjs-dist (Apache-2.0; never mupdf, AGPL) onto an
 * @napi-rs/canvas canvas with a white background. No script is evaluated, no font is
 * installed, nothing is fetched from the network; the document is destroyed on every path.
 */
export function createPdfPageSource(options: PdfPageSourceOptions = {}): FrameSource {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  const defaultDpi = options.defaultDpi ?? 150;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
  if (!(defaultDpi > 0 && defaultDpi <= MAX_DPI)) throw new RangeError(`defaultDpi must be in (0, ${MAX_DPI}], got ${defaultDpi}`);
  const budget = options.budget ?? createCpuBudget({ slots: Math.max(1, availableParallelism()) });

  async function readBounded(source: ProbeSource): Promise<Buffer> {
    const tooLarge = () => undecodable(new Error(`the document is larger than the ${maxBytes}-byte render limit`));
    if (source.path !== undefined && (await stat(source.path)).size > maxBytes) throw tooLarge();
    const bytes = await source.read();
    if (bytes.length > maxBytes) throw tooLarge();
    return bytes;
  }

  async function render(source: ProbeSource, request: FrameRequest, signal?: AbortSignal): Promise<Buffer> {
    let pdfjs;
    try {
      pdfjs = await loadPdfjs();
    } catch (error) {
      throw new AppError("dependency_down", "the PDF renderer (pdfjs-dist) could not be loaded", {}, { cause: error });
    }
    let canvasLib: typeof import("@napi-rs/canvas");
    try {
      canvasLib = await import("@napi-rs/canvas");
    } catch (error) {
      throw new AppError("dependency_down", "the PDF renderer (@napi-rs/canvas) could not be loaded", {}, { cause: error });
    }
    const bytes = await readBounded(source);
    signal?.throwIfAborted();
    dataDirs ??= pdfjsDataDirs();

    const task = pdfjs.getDocument({
      data: new Uint8Array(bytes), // a copy: pdfjs refuses Buffers and may detach what it gets
      isEvalSupported: false,
      disableFontFace: true, // glyphs are drawn as paths from the font programs, no FontFace
      useSystemFonts: false,
      disableAutoFetch: true,
      disableStream: true,
      enableXfa: false,
      ...dataDirs,
      verbosity: pdfjs.VerbosityLevel.ERRORS,
    });

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
      let doc;
      try {
        doc = await step(task.promise);
      } catch (error) {
        if ((error as Error | undefined)?.name === "PasswordException") {
          throw new AppError("document_encrypted", "the PDF document is password-protected and cannot be rendered");
        }
        throw error;
      }
      const pageNumber = request.page ?? 1;
      if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > doc.numPages) {
        throw new InvalidParameterError("page", `page must be from 1 to ${doc.numPages}`);
      }
      const page = await step(doc.getPage(pageNumber));
      const base = page.getViewport({ scale: 1 }); // applies /Rotate, like a viewer
      if (!(base.width > 0 && base.height > 0)) throw undecodable(new Error(`page ${pageNumber} has no area`));
      const viewport = page.getViewport({ scale: pageScale(base.width, base.height, request, defaultDpi) });
      const width = Math.max(1, Math.floor(viewport.width));
      const height = Math.max(1, Math.floor(viewport.height));

      const canvas = canvasLib.createCanvas(width, height);
      const context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, width, height);
      const renderTask = page.render({
        canvas: canvas as unknown as Parameters<typeof page.render>[0]["canvas"],
        viewport,
        background: "#ffffff",
        annotationMode: pdfjs.AnnotationMode.ENABLE, // form field appearances, as a viewer shows them
      });
      cancelRender = () => renderTask.cancel();
      try {
        await step(renderTask.promise);
      } finally {
        cancelRender = undefined;
        page.cleanup();
      }
      return await step(canvas.encode("png"));
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (signal?.aborted && error === signal.reason) throw error;
      throw undecodable(error);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      await task.destroy();
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
