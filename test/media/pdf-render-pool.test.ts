import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import type { ProbeSource } from "../../src/ports/media-probe.js";
import { fixturePath } from "../helpers/fixtures.js";
import { buildPdf, manyPathsContent } from "../helpers/pdf-writer.js";
import { createPdfRenderPool } from "../../src/media/pdf/render-pool.js";

const MAX_PIXELS = 100_000_000;
const A4 = "documents/asymptote-asy-latex-11-pages.pdf";
const ENCRYPTED = "documents/encrypted-aes256-cad-7-pages.pdf";

const fileSource = (relative: string): ProbeSource => {
  const path = fixturePath(relative);
  return { path, read: () => readFile(path), contentType: "application/pdf" };
};
const bufferSource = (data: Buffer): ProbeSource => ({ read: async () => data, contentType: "application/pdf" });

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** The largest gap between 10 ms ticks of this thread's event loop while `work` runs. */
async function maxLagDuring<T>(work: Promise<T>): Promise<{ outcome: PromiseSettledResult<T>; maxLagMs: number; ticks: number }> {
  let last = performance.now();
  let maxLagMs = 0;
  let ticks = 0;
  const interval = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 10);
    last = now;
    ticks++;
  }, 10);
  const [outcome] = await Promise.allSettled([work]);
  clearInterval(interval);
  return { outcome, maxLagMs, ticks };
}

// One page of a million separately stroked lines: 28 KB compressed, about a minute of
// pdfjs + canvas work on this machine, all of it synchronous JavaScript and Skia calls.
const hostile = buildPdf([{ width: 200, height: 200, content: manyPathsContent(1_000_000) }]);

describe("PDF render pool", () => {
  const pool = createPdfRenderPool({ threads: 1, timeoutMs: 20_000 });
  const fast = createPdfRenderPool({ threads: 1, timeoutMs: 1_500 });
  afterAll(async () => {
    await Promise.all([pool.close(), fast.close()]);
  });

  it("renders a fixture page at 150 dpi on a worker thread, as PNG of the page's pixel size", async () => {
    const frame = await pool.frame(fileSource(A4), { maxPixels: MAX_PIXELS });
    const meta = await sharp(frame).metadata();
    expect(meta.format).toBe("png");
    expect(meta.width).toBe(Math.floor((595.276 * 150) / 72));
    expect(meta.height).toBe(Math.floor((841.89 * 150) / 72));
    // Real ink on white: the page was drawn, not just allocated.
    const { data } = await sharp(frame).greyscale().raw().toBuffer({ resolveWithObject: true });
    const dark = data.reduce((n, v) => n + (v < 128 ? 1 : 0), 0) / data.length;
    expect(dark).toBeGreaterThan(0.005);
  });

  it("sizes a page for a target width and renders from bytes", async () => {
    const bytes = await readFile(fixturePath(A4));
    const frame = await pool.render(bytes, { page: 2, targetWidth: 300, maxPixels: MAX_PIXELS });
    const meta = await sharp(frame).metadata();
    expect(meta.width).toBe(600); // twice the target, for a crisp downscale
    expect(Math.abs(meta.height! / meta.width! / (841.89 / 595.276) - 1)).toBeLessThan(0.01);
    expect(bytes.length).toBeGreaterThan(0); // the caller's buffer is not detached
  });

  it("brings the catalog errors back from the worker with their codes and details", async () => {
    const page = await appErrorOf(pool.frame(fileSource(A4), { page: 12, maxPixels: MAX_PIXELS }));
    expect(page.code).toBe("invalid_parameter");
    expect(page.details).toEqual({ parameter: "page" });
    expect(page.message).toBe("page must be from 1 to 11");
    const encrypted = await appErrorOf(pool.frame(fileSource(ENCRYPTED), { maxPixels: MAX_PIXELS }));
    expect(encrypted.code).toBe("document_encrypted");
    const garbage = await appErrorOf(pool.frame(bufferSource(Buffer.from("%PDF-1.7\n no objects")), { maxPixels: MAX_PIXELS }));
    expect(garbage.code).toBe("undecodable_media");
    const zero = await appErrorOf(pool.frame(fileSource(A4), { page: 0, maxPixels: MAX_PIXELS }));
    expect(zero.details).toEqual({ parameter: "page" });
  });

  it("kills a hostile page at the deadline with render_timeout while this thread keeps ticking", async () => {
    // A warm worker, so the deadline is spent on the page itself and not on a thread's start.
    await fast.render(buildPdf([{ width: 10, height: 10, content: "" }]), { maxPixels: MAX_PIXELS });
    const started = performance.now();
    const { outcome, maxLagMs, ticks } = await maxLagDuring(fast.frame(bufferSource(hostile), { maxPixels: MAX_PIXELS }));
    const elapsed = performance.now() - started;
    console.log(`hostile page: cut after ${Math.round(elapsed)} ms, ${ticks} ticks, max event-loop lag ${Math.round(maxLagMs)} ms`);

    expect(outcome.status).toBe("rejected");
    const error = (outcome as PromiseRejectedResult).reason as AppError;
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe("render_timeout");
    expect(error.status).toBe(422);
    expect(elapsed).toBeGreaterThanOrEqual(1_500);
    expect(elapsed).toBeLessThan(5_000); // the 1.5 s deadline and the kill, far from the minute the page needs
    expect(maxLagMs).toBeLessThan(100);
    expect(ticks).toBeGreaterThan(elapsed / 10 / 3);
  });

  it("renders normally again after a worker was killed", async () => {
    const frame = await fast.render(buildPdf([{ width: 72, height: 36, content: "0 0 1 rg 0 0 72 36 re f\n" }]), { maxPixels: MAX_PIXELS });
    const { data, info } = await sharp(frame).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([150, 75]);
    expect([...data.subarray(0, 3)]).toEqual([0, 0, 255]); // the blue rectangle fills the page
  });

  it("stops with the caller's reason when the caller gives up", async () => {
    const controller = new AbortController();
    const work = pool.frame(bufferSource(hostile), { maxPixels: MAX_PIXELS }, controller.signal);
    setTimeout(() => controller.abort(new Error("client went away")), 300);
    await expect(work).rejects.toThrow("client went away");
    await expect(pool.frame(fileSource(A4), { maxPixels: MAX_PIXELS }, AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
  });

  it("refuses a document beyond maxBytes before any worker sees it", async () => {
    const small = createPdfRenderPool({ threads: 1, maxBytes: 1_000 });
    try {
      expect((await appErrorOf(small.frame(fileSource(A4), { maxPixels: MAX_PIXELS }))).code).toBe("undecodable_media");
      expect((await appErrorOf(small.render(await readFile(fixturePath(A4)), { maxPixels: MAX_PIXELS }))).code).toBe("undecodable_media");
    } finally {
      await small.close();
    }
  });

  it("checks its options", () => {
    expect(() => createPdfRenderPool({ threads: 0 })).toThrow(RangeError);
    expect(() => createPdfRenderPool({ threads: 1, timeoutMs: 0 })).toThrow(RangeError);
  });
});
