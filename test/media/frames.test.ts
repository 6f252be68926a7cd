import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import type { ProbeSource } from "../../src/ports/media-probe.js";
import { createPdfPageSource, pageScale } from "../../src/media/pdf/render.js";
import { createPosterSource } from "../../src/media/video/poster.js";
import { fixture, fixturePath } from "../helpers/fixtures.js";

const MAX_PIXELS = 100_000_000;
const posters = createPosterSource();
const pages = createPdfPageSource();

function source(relative: string, contentType: string, via: "path" | "buffer" = "path"): ProbeSource {
  const path = fixturePath(relative);
  return { ...(via === "path" ? { path } : {}), read: () => readFile(path), contentType };
}
const bytes = (data: Buffer | string, contentType: string): ProbeSource => ({
  read: async () => (typeof data === "string" ? Buffer.from(data) : data), contentType,
});

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function png(buffer: Buffer) {
  const meta = await sharp(buffer).metadata();
  expect(meta.format).toBe("png");
  return meta;
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await work();
  console.log(`${label}: ${Math.round(performance.now() - started)} ms`);
  return value;
}

describe("video poster frames", () => {
  it("handles video/* only", () => {
    expect(posters.handles("video/mp4")).toBe(true);
    expect(posters.handles("Video/WebM; codecs=vp9")).toBe(true);
    expect(posters.handles("audio/mpeg")).toBe(false);
    expect(posters.handles("application/pdf")).toBe(false);
  });

  it("extracts the MP4 frame at t=2.5 as a 1280x720 PNG (path and buffer sources)", async () => {
    for (const via of ["path", "buffer"] as const) {
      const frame = await timed(`poster mp4 t=2.5 (${via})`, () =>
        posters.frame(source("video/h264-aac-1280x720-6s.mp4", "video/mp4", via), { t: 2.5, maxPixels: MAX_PIXELS }));
      const meta = await png(frame);
      expect([meta.width, meta.height]).toEqual([1280, 720]);
    }
  });

  it("gives different frames for different times", async () => {
    const src = source("video/h264-aac-1280x720-6s.mp4", "video/mp4");
    const [a, b] = await Promise.all([0.5, 4].map((t) => posters.frame(src, { t, maxPixels: MAX_PIXELS })));
    expect(a!.equals(b!)).toBe(false);
  });

  it("turns the rotated phone clip upright: 360x640", async () => {
    const frame = await posters.frame(source("video/portrait-rotate-90-360x640-3s.mp4", "video/mp4"), { t: 1, maxPixels: MAX_PIXELS });
    const meta = await png(frame);
    expect([meta.width, meta.height]).toEqual([360, 640]);
  });

  it("picks a default time when t is absent", async () => {
    const frame = await timed("poster mp4 default t", () =>
      posters.frame(source("video/h264-aac-1280x720-6s.mp4", "video/mp4"), { maxPixels: MAX_PIXELS }));
    expect(((await png(frame)).width)).toBe(1280);
  });

  it("extracts a WebM poster, 640x360", async () => {
    const frame = await posters.frame(source("video/vp9-opus-640x360-3s.webm", "video/webm"), { t: 1, maxPixels: MAX_PIXELS });
    const meta = await png(frame);
    expect([meta.width, meta.height]).toEqual([640, 360]);
  });

  it("clamps a t at or beyond the end to the last frame", async () => {
    for (const [name, t] of [["video/h264-aac-1280x720-6s.mp4", 6], ["video/h264-aac-1280x720-6s.mp4", 600], ["video/vp9-opus-640x360-3s.webm", 3.2]] as const) {
      const frame = await posters.frame(source(name, "video/mp4"), { t, maxPixels: MAX_PIXELS });
      expect((await png(frame)).width).toBeGreaterThan(0);
    }
  });

  it("refuses a negative or non-finite t naming t", async () => {
    for (const t of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await appErrorOf(posters.frame(source("video/h264-aac-1280x720-6s.mp4", "video/mp4"), { t, maxPixels: MAX_PIXELS }));
      expect(error.code).toBe("invalid_parameter");
      expect(error.details).toEqual({ parameter: "t" });
    }
  });

  it("refuses a video larger than maxPixels before decoding", async () => {
    const error = await appErrorOf(posters.frame(source("video/h264-aac-1280x720-6s.mp4", "video/mp4"), { t: 1, maxPixels: 1280 * 720 - 1 }));
    expect(error.code).toBe("pixel_limit_exceeded");
    expect(error.status).toBe(422);
  });

  it("answers undecodable_media for the truncated MP4, with ffmpeg's words only in cause", async () => {
    const error = await appErrorOf(posters.frame(source("video/truncated-50pct-no-moov.mp4", "video/mp4"), { t: 1, maxPixels: MAX_PIXELS }));
    expect(error.code).toBe("undecodable_media");
    expect(error.status).toBe(422);
    expect(error.message).not.toContain("moov");
    expect(String((error.cause as Error).message)).toContain("moov atom not found");
    const garbage = await appErrorOf(posters.frame(bytes("not a video", "video/mp4"), { maxPixels: MAX_PIXELS }));
    expect(garbage.code).toBe("undecodable_media");
  });

  it("answers dependency_down (503) when ffmpeg is missing", async () => {
    const missing = createPosterSource({ binary: "/nonexistent/ffmpeg" });
    const error = await appErrorOf(missing.frame(source("video/h264-aac-1280x720-6s.mp4", "video/mp4"), { t: 1, maxPixels: MAX_PIXELS }));
    expect(error.code).toBe("dependency_down");
    expect(error.status).toBe(503);
    expect(error.message).toBe("ffmpeg is not installed; video frames are unavailable");
  });

  it("stops on abort with the signal's reason", async () => {
    const src = source("video/h264-aac-1280x720-6s.mp4", "video/mp4");
    const already = AbortSignal.abort(new Error("gone"));
    await expect(posters.frame(src, { t: 1, maxPixels: MAX_PIXELS }, already)).rejects.toThrow("gone");
    const controller = new AbortController();
    const work = posters.frame(src, { t: 5, maxPixels: MAX_PIXELS }, controller.signal);
    setTimeout(() => controller.abort(new Error("client left")), 20);
    await expect(work).rejects.toThrow("client left");
  });
});

describe("PDF page frames", () => {
  const doc = "documents/asymptote-asy-latex-11-pages.pdf";

  it("handles application/pdf only", () => {
    expect(pages.handles("application/pdf")).toBe(true);
    expect(pages.handles("video/mp4")).toBe(false);
  });

  it("renders page 2 for a 600-wide target: A4 aspect, at least 600 wide, with ink", async () => {
    const frame = await timed("pdf page 2 targetWidth 600", () =>
      pages.frame(source(doc, "application/pdf"), { page: 2, targetWidth: 600, maxPixels: MAX_PIXELS }));
    const meta = await png(frame);
    expect(meta.width).toBeGreaterThanOrEqual(600);
    expect(meta.width).toBeLessThanOrEqual(1200);
    expect(Math.abs(meta.height! / meta.width! / (841.89 / 595.276) - 1)).toBeLessThan(0.01);
    const stats = await sharp(frame).stats();
    // White background (no transparency) with dark text on it.
    expect(stats.channels.slice(0, 3).every((c) => c.max === 255 && c.min < 80)).toBe(true);
    expect(stats.isOpaque).toBe(true);
    // Text pages are mostly white but not nearly all: some percent of ink.
    const { data } = await sharp(frame).greyscale().raw().toBuffer({ resolveWithObject: true });
    const dark = data.reduce((n, v) => n + (v < 128 ? 1 : 0), 0) / data.length;
    expect(dark).toBeGreaterThan(0.005);
  });

  it("renders page 1 at the default 150 dpi from a buffer source", async () => {
    const frame = await timed("pdf page 1 default dpi (buffer)", () =>
      pages.frame(source(doc, "application/pdf", "buffer"), { maxPixels: MAX_PIXELS }));
    const meta = await png(frame);
    expect(meta.width).toBe(Math.floor(595.276 * 150 / 72));
    expect(meta.height).toBe(Math.floor(841.89 * 150 / 72));
  });

  it("keeps the render within maxPixels", async () => {
    const frame = await pages.frame(source(doc, "application/pdf"), { page: 1, targetWidth: 4000, maxPixels: 1_000_000 });
    const meta = await png(frame);
    expect(meta.width! * meta.height!).toBeLessThanOrEqual(1_000_000);
    expect(pageScale(595.276, 841.89, { targetWidth: 4000, maxPixels: 1_000_000 }, 150)).toBeLessThan(2);
  });

  it("refuses page 12 of 11 naming page", async () => {
    const error = await appErrorOf(pages.frame(source(doc, "application/pdf"), { page: 12, maxPixels: MAX_PIXELS }));
    expect(error.code).toBe("invalid_parameter");
    expect(error.details).toEqual({ parameter: "page" });
    expect(error.message).toBe("page must be from 1 to 11");
    const zero = await appErrorOf(pages.frame(source(doc, "application/pdf"), { page: 0, maxPixels: MAX_PIXELS }));
    expect(zero.details).toEqual({ parameter: "page" });
  });

  it("answers document_encrypted (422) for the password-protected PDF", async () => {
    const error = await appErrorOf(pages.frame(source("documents/encrypted-aes256-cad-7-pages.pdf", "application/pdf"), { maxPixels: MAX_PIXELS }));
    expect(error.code).toBe("document_encrypted");
    expect(error.status).toBe(422);
  });

  it("answers undecodable_media for garbage and a truncated PDF", async () => {
    for (const data of ["not a pdf at all", "", "%PDF-1.7\n garbage with no objects"]) {
      const error = await appErrorOf(pages.frame(bytes(data, "application/pdf"), { maxPixels: MAX_PIXELS }));
      expect(error.code).toBe("undecodable_media");
    }
    const whole = fixture(doc);
    const truncated = await appErrorOf(pages.frame(bytes(whole.subarray(0, whole.length / 2), "application/pdf"), { maxPixels: MAX_PIXELS }));
    expect(truncated.code).toBe("undecodable_media");
  });

  it("refuses a document beyond maxBytes without reading it", async () => {
    const small = createPdfPageSource({ maxBytes: 1000 });
    const error = await appErrorOf(small.frame(source(doc, "application/pdf"), { maxPixels: MAX_PIXELS }));
    expect(error.code).toBe("undecodable_media");
  });

  it("stops on abort", async () => {
    await expect(pages.frame(source(doc, "application/pdf"), { maxPixels: MAX_PIXELS }, AbortSignal.abort(new Error("gone"))))
      .rejects.toThrow("gone");
  });
});
