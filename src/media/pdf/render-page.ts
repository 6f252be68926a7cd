import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { AppError, InvalidParameterError } from "../../domain/errors.js";
import type { FrameRequest } from "../../ports/frame-source.js";
import type { ProbeSource } from "../../ports/media-probe.js";
import { loadPdfjs } from "./pdfjs.js";

/**
 * The page renderer both PDF frame sources share: the in-thread one (render.ts) and the
 * worker pool (render-pool.ts, through render-worker.ts). It opens the document, rasterises
 * one page with pdfjs-dist onto an @napi-rs/canvas canvas and encodes PNG. How long it may
 * take is the caller's business: the in-thread source races each step against its deadline,
 * the pool terminates the worker thread.
 */

/** A page is never rasterised finer than this, however large the requested width. */
export const MAX_DPI = 600;
/** Skia's (and most canvases') limit on either side. */
const MAX_SIDE = 32_767;

export const undecodablePdf = (cause: unknown): AppError =>
  new AppError("undecodable_media", "the PDF document could not be rendered", {}, { cause });

/** Catalog errors pass through; anything else pdfjs or the canvas throws is undecodable media. */
export const asRenderError = (error: unknown): AppError =>
  error instanceof AppError ? error : undecodablePdf(error);

/** The document's bytes, refused (undecodable_media) beyond `maxBytes` without reading a file that large. */
export async function readPdfBytes(source: ProbeSource, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => undecodablePdf(new Error(`the document is larger than the ${maxBytes}-byte render limit`));
  if (source.path !== undefined && (await stat(source.path)).size > maxBytes) throw tooLarge();
  const bytes = await source.read();
  if (bytes.length > maxBytes) throw tooLarge();
  return bytes;
}

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

/** How a caller keeps control over a render while it runs. */
export interface PageRenderControl {
  /** Wraps every asynchronous pdfjs step (the in-thread source races it against its deadline). */
  step<T>(work: Promise<T>): Promise<T>;
  /** Given the canvas render's cancel function while it runs, `undefined` once it is over. */
  onCancelable?(cancel: (() => void) | undefined): void;
}

const passThrough: PageRenderControl = { step: (work) => work };

async function loadLibraries() {
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
  return { pdfjs, canvasLib };
}

/**
 * Renders page `request.page` (default 1) of `bytes` to PNG, white background, /Rotate
 * applied. No script is evaluated, no font is installed, nothing is fetched from the
 * network; the document is destroyed on every path. Throws `document_encrypted`,
 * `invalid_parameter` (page) and `undecodable_media` AppErrors, `dependency_down` when
 * pdfjs or the canvas cannot be loaded, and whatever `control.step` throws, unchanged.
 */
export async function renderPdfPage(
  bytes: Uint8Array, request: FrameRequest, defaultDpi: number, control: PageRenderControl = passThrough,
): Promise<Buffer> {
  const { pdfjs, canvasLib } = await loadLibraries();
  dataDirs ??= pdfjsDataDirs();
  const { step } = control;
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
    if (!(base.width > 0 && base.height > 0)) throw undecodablePdf(new Error(`page ${pageNumber} has no area`));
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
    control.onCancelable?.(() => renderTask.cancel());
    try {
      await step(renderTask.promise);
    } finally {
      control.onCancelable?.(undefined);
      page.cleanup();
    }
    return await step(canvas.encode("png"));
  } finally {
    await task.destroy();
  }
}
