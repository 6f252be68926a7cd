import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { AppError } from "../../domain/errors.js";
import type { CpuBudget } from "../../ports/cpu-budget.js";
import type { MediaProbe, ProbeSource } from "../../ports/media-probe.js";
import type { AssetMeta } from "../../ports/repos.js";
import { createCpuBudget } from "../cpu-budget.js";
import { firstText, roundPoints } from "./doc-text.js";
import { loadPdfjs } from "./pdfjs.js";

export interface PdfProbeOptions {
  /** Parsing is abandoned (and the document destroyed) after this long. Default 30 s. */
  timeoutMs?: number;
  /** Larger documents are not read into memory; their manifest says why. Default 128 MiB. */
  maxBytes?: number;
  /** Bounds parsing (pdfjs works on this thread), with the process's other media work; default its own, one slot per CPU. */
  budget?: CpuBudget;
}

const mediaType = (contentType: string) => contentType.split(";")[0]!.trim().toLowerCase();

const undecodable = (cause: unknown) =>
  new AppError("undecodable_media", "the PDF document could not be read", {}, { cause });

class ProbeTimeout extends Error {}

/**
 * Page count, first-page size and document info through pdfjs-dist (Apache-2.0; mupdf
 * is AGPL, see PLATFORM.md). Metadata only: nothing is rendered, no fonts are loaded,
 * no script is evaluated and no URL is fetched.
 */
export function createPdfProbe(options: PdfProbeOptions = {}): MediaProbe {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
  const budget = options.budget ?? createCpuBudget({ slots: Math.max(1, availableParallelism()) });
  const tooLarge = { mediaFactsUnavailable: `the document is larger than the ${maxBytes}-byte probe limit` };

  async function readBounded(source: ProbeSource): Promise<Buffer | undefined> {
    // Ask the file system first so an oversized document is never loaded at all.
    if (source.path !== undefined && (await stat(source.path)).size > maxBytes) return undefined;
    const bytes = await source.read();
    return bytes.length > maxBytes ? undefined : bytes;
  }

  async function describe(source: ProbeSource): Promise<AssetMeta> {
    let pdfjs;
    try {
      pdfjs = await loadPdfjs();
    } catch {
      return { mediaFactsUnavailable: "the PDF reader (pdfjs-dist) could not be loaded" };
    }
    const bytes = await readBounded(source);
    if (!bytes) return tooLarge;

    const task = pdfjs.getDocument({
      // A copy: pdfjs refuses Buffers and may take ownership of (detach) what it is given.
      data: new Uint8Array(bytes),
      isEvalSupported: false, // PDF functions are interpreted, never compiled with eval
      disableFontFace: true,
      useSystemFonts: false,
      disableAutoFetch: true,
      disableStream: true,
      enableXfa: false,
      verbosity: pdfjs.VerbosityLevel.ERRORS,
    });
    // pdfjs parses on this thread (its "fake worker" in Node), mostly in promise callbacks,
    // so a timer alone may not get a turn before a step completes: each step is raced
    // against the timer AND checked against the clock afterwards. A single step that never
    // yields cannot be interrupted in-thread; pdfjs guards its known loops (cyclic xref
    // and page trees), and a worker_threads isolate is the next step if one turns up.
    const deadlineAt = performance.now() + timeoutMs;
    const timedOut = () => new ProbeTimeout(`PDF probe timed out after ${timeoutMs} ms`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut()), timeoutMs);
    });
    const step = async <T>(work: Promise<T>): Promise<T> => {
      const value = await Promise.race([deadline, work]);
      if (performance.now() > deadlineAt) throw timedOut();
      return value;
    };

    try {
      const doc = await step(task.promise);
      const [{ info, metadata }, page] = await step(Promise.all([doc.getMetadata(), doc.getPage(1)]));
      const fields = info as Record<string, unknown>;
      const viewport = page.getViewport({ scale: 1 }); // applies /Rotate, like a viewer
      const meta: AssetMeta = {
        pages: doc.numPages,
        pageWidth: roundPoints(viewport.width),
        pageHeight: roundPoints(viewport.height),
        // Owner-password-only files open without a password but are still encrypted.
        encrypted: fields.EncryptFilterName != null,
      };
      const title = firstText(fields.Title, metadata?.get("dc:title"));
      const author = firstText(fields.Author, metadata?.get("dc:creator"));
      if (title !== undefined) meta.title = title;
      if (author !== undefined) meta.author = author;
      return meta;
    } catch (error) {
      // Without the user password nothing but the encryption itself is knowable: that is
      // a fact about the document, not a failure (it is stored, renders answer 422).
      if ((error as Error | undefined)?.name === "PasswordException") return { encrypted: true };
      throw undecodable(error);
    } finally {
      clearTimeout(timer);
      // Frees the parser's copy of the bytes and its caches, on every path (incl. timeout).
      await task.destroy();
    }
  }

  return {
    handles: (contentType) => mediaType(contentType) === "application/pdf",
    // Probes run in background jobs: they wait for a slot, never refused.
    describe: (source) => budget.run(() => describe(source), { patient: true }),
    async status() {
      try {
        const pdfjs = await loadPdfjs();
        return { name: "pdfjs-dist", available: true, version: `pdfjs-dist ${pdfjs.version}` };
      } catch {
        // The loader's message names install paths; readiness output may be public.
        return { name: "pdfjs-dist", available: false, reason: "pdfjs-dist could not be loaded" };
      }
    },
  };
}
