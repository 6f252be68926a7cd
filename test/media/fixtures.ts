import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { ImageSource, RenderLimits } from "../../src/ports/image-engine.js";

/** The shared corpus (/work/shared/fixtures), found relative to this repository. */
export const FIXTURES_DIR = process.env.ASSETD_FIXTURES_DIR ?? fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));

export function fixturePath(relative: string): string {
  return FIXTURES_DIR.replace(/\/?$/, "/") + relative;
}

const TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp", avif: "image/avif",
  tif: "image/tiff", svg: "image/svg+xml", heic: "image/heic", txt: "text/plain",
};

/**
 * A fixture as the engine sees it. `via: "path"` lets libvips read the file (the store's
 * fast path); `via: "buffer"` exercises the in-memory path. The type is the real one,
 * as a sniffer would report it, unless given.
 */
export function fixtureSource(relative: string, opts: { via?: "path" | "buffer"; contentType?: string } = {}): ImageSource {
  const path = fixturePath(relative);
  const ext = relative.split(".").pop()!.toLowerCase();
  return {
    ...(opts.via === "buffer" ? {} : { path }),
    read: () => readFile(path),
    contentType: opts.contentType ?? TYPES[ext] ?? "application/octet-stream",
  };
}

export function bufferSource(data: Buffer, contentType: string): ImageSource {
  return { read: async () => data, contentType };
}

/** The service defaults: 100 MP in, and a generous output limit. */
export const LIMITS: RenderLimits = { maxInputPixels: 100_000_000, maxOutputPixels: 50_000_000 };

/** A 3-page 40x30 TIFF: red, green, blue pages (made in memory: no such fixture). */
export async function threePageTiff(): Promise<Buffer> {
  const { default: sharp } = await import("sharp");
  const page = 40 * 30 * 3;
  const strip = Buffer.alloc(page * 3);
  for (let p = 0; p < 3; p++) {
    for (let i = 0; i < 40 * 30; i++) strip[p * page + i * 3 + p] = 255;
  }
  return sharp(strip, { raw: { width: 40, height: 90, channels: 3, pageHeight: 30 } }).tiff().toBuffer();
}
