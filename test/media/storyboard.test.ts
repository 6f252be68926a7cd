import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import { createCpuBudget } from "../../src/media/cpu-budget.js";
import { createStoryboardSource } from "../../src/media/video/storyboard.js";
import type { ProbeSource } from "../../src/ports/media-probe.js";
import { fixturePath } from "../helpers/fixtures.js";

const budget = createCpuBudget({ slots: 2 });
const limits = { maxPixels: 100_000_000, maxOutputPixels: 50_000_000 };
const source = (relative: string, via: "path" | "buffer" = "path"): ProbeSource => {
  const path = fixturePath(relative);
  return { ...(via === "path" ? { path } : {}), read: () => readFile(path), contentType: "video/mp4" };
};
const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error("expected a failure"); }, (e: unknown) => e as AppError);

describe("storyboard sprites through ffmpeg", () => {
  it("draws every tile of the grid, also from a store without local files", async () => {
    const sprites = createStoryboardSource({ budget });
    const { png, layout } = await sprites.sprite(source("video/h264-aac-1280x720-6s.mp4", "buffer"), { frames: 5, tileWidth: 128, columns: 3 }, limits);
    expect(layout).toMatchObject({ columns: 3, rows: 2, tileWidth: 128, tileHeight: 72 });
    expect(await sharp(png).metadata()).toMatchObject({ format: "png", width: 384, height: 144 });
  });

  it("answers dependency_down (503) when ffmpeg is missing, and refuses oversized sprites first", async () => {
    const missing = createStoryboardSource({ budget, binary: "/nonexistent/ffmpeg" });
    const error = await failure(missing.sprite(source("video/h264-aac-1280x720-6s.mp4"), {}, limits));
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe("dependency_down");
    expect(error.message).toBe("ffmpeg is not installed; video storyboards are unavailable");
    const big = await failure(createStoryboardSource({ budget }).sprite(source("video/h264-aac-1280x720-6s.mp4"), { frames: 100, tileWidth: 640 }, { ...limits, maxOutputPixels: 1_000_000 }));
    expect(big.code).toBe("output_too_large");
  });
});
