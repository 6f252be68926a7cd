import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, rename, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { REPO_ROOT } from "./assetd.js";

const run = promisify(execFile);

/** ../shared/fixtures beside the repository (where CI puts it too); ASSETD_FIXTURES overrides. */
export const FIXTURES = process.env.ASSETD_FIXTURES ?? resolve(REPO_ROOT, "..", "shared", "fixtures");

/** The largest landscape JPEG among the fixture photos (the real photo the big source is made from). */
export async function largestPhoto(): Promise<{ path: string; width: number; height: number }> {
  const dir = join(FIXTURES, "photos");
  if (!existsSync(dir)) throw new Error(`no fixture photos in ${dir} (set ASSETD_FIXTURES)`);
  let best: { path: string; width: number; height: number } | undefined;
  for (const name of readdirSync(dir).sort()) {
    if (!/\.jpe?g$/i.test(name)) continue;
    const path = join(dir, name);
    const meta = await sharp(path).metadata();
    // Plain sRGB-ish colour only: a CMYK or grey source would measure a different pipeline.
    if (meta.space !== "srgb" || meta.width < meta.height) continue;
    if (!best || meta.width * meta.height > best.width * best.height) best = { path, width: meta.width, height: meta.height };
  }
  if (!best) throw new Error(`no landscape sRGB JPEG in ${dir}`);
  return best;
}

export const SOURCE_WIDTH = 5472;
export const SOURCE_HEIGHT = 3648;

/**
 * A ~20 MP real-photo JPEG: the largest fixture photo upscaled to 5472x3648 (a 20 MP
 * camera's size) and saved as a quality-90 JPEG. Cached in bench/out/fixtures.
 */
export async function bigJpeg(outDir: string): Promise<{ path: string; bytes: number; from: string }> {
  const dir = join(outDir, "fixtures");
  const path = join(dir, `photo-${SOURCE_WIDTH}x${SOURCE_HEIGHT}-q90.jpg`);
  const photo = await largestPhoto();
  if (!existsSync(path)) {
    await mkdir(dir, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await sharp(photo.path).resize(SOURCE_WIDTH, SOURCE_HEIGHT, { fit: "fill", kernel: "lanczos3" })
      .jpeg({ quality: 90, mozjpeg: false }).toFile(temp);
    await rename(temp, path);
  }
  return { path, bytes: (await stat(path)).size, from: photo.path };
}

/** `make-large.sh SIZE_MB OUT` from the shared fixtures: deterministic pseudo-random bytes. */
export async function largeFile(sizeMiB: number, out: string): Promise<void> {
  const script = join(FIXTURES, "make-large.sh");
  if (!existsSync(script)) throw new Error(`${script} is missing`);
  await run("sh", [script, String(sizeMiB), out], { maxBuffer: 1 << 20 });
  // Flush it now, so writeback of the new file does not compete with the first measurement.
  await run("sync", [out]);
}
