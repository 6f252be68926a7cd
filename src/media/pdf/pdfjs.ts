/**
 * pdfjs-dist's legacy build (the modern build assumes browser APIs Node 20 lacks), loaded
 * on first use: it costs ~90 ms and some memory that an API-only process never needs.
 * In Node it parses on a "fake worker" in this thread, so no worker file has to be served.
 */
export type Pdfjs = typeof import("pdfjs-dist/legacy/build/pdf.mjs");

let loading: Promise<Pdfjs> | undefined;

export function loadPdfjs(): Promise<Pdfjs> {
  loading ??= import("pdfjs-dist/legacy/build/pdf.mjs").catch((error: unknown) => {
    loading = undefined; // let a later call retry (e.g. after a deploy fixed node_modules)
    throw error;
  });
  return loading;
}
