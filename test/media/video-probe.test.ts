import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import type { ProbeSource } from "../../src/ports/media-probe.js";
import { factsFromFfprobe, parseRate } from "../../src/media/video/ffprobe-facts.js";
import { createCpuBudget } from "../../src/media/cpu-budget.js";
import { createFfprobe } from "../../src/media/video/probe.js";
import { fixturePath } from "../helpers/fixtures.js";

const probe = createFfprobe();

const ffprobeMissing = spawnSync("ffprobe", ["-version"]).error;
if (ffprobeMissing) console.warn(`skipping ffprobe tests: ffprobe is not on PATH (${ffprobeMissing.message})`);

function source(relative: string, contentType: string, via: "path" | "memory" = "path"): ProbeSource {
  const path = fixturePath(relative);
  return { ...(via === "path" ? { path } : {}), read: () => readFile(path), contentType };
}

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("ffprobe: which types", () => {
  it("handles video/* and audio/*, parameters and case aside", () => {
    expect(["video/mp4", "video/webm", "audio/ogg", "Audio/MPEG; codecs=mp3"].every((t) => probe.handles(t))).toBe(true);
    expect(["application/pdf", "image/png", "application/octet-stream"].some((t) => probe.handles(t))).toBe(false);
  });
});

describe("ffprobe output -> facts (no ffprobe needed)", () => {
  it("parses frame rates, including NTSC and unknown", () => {
    expect([parseRate("30/1"), parseRate("30000/1001"), parseRate("0/0"), parseRate(undefined)]).toEqual([30, 29.97, undefined, undefined]);
  });

  it("swaps the size for the older `rotate` tag too, and ignores cover art", () => {
    const { meta } = factsFromFfprobe({
      streams: [
        { codec_type: "video", codec_name: "mjpeg", width: 500, height: 500, disposition: { attached_pic: 1 } },
        { codec_type: "video", codec_name: "h264", width: 1920, height: 1080, tags: { rotate: "270" }, avg_frame_rate: "0/0", r_frame_rate: "25/1" },
      ],
      format: { duration: "1.5" },
    });
    expect(meta).toMatchObject({ width: 1080, height: 1920, rotation: 270, videoCodec: "h264", frameRate: 25, duration: 1.5 });
  });

  it("survives junk without throwing", () => {
    expect(factsFromFfprobe(null)).toEqual({ meta: {}, hasVideo: false, hasAudio: false });
    expect(factsFromFfprobe({ streams: "x", format: [] }).meta).toEqual({});
  });
});

describe.skipIf(ffprobeMissing)("ffprobe: the fixtures", () => {
  it("reads the H.264/AAC MP4: 1280x720, 6 s, 30 fps, mono 48 kHz", async () => {
    const meta = await probe.describe(source("video/h264-aac-1280x720-6s.mp4", "video/mp4"));
    expect(meta).toMatchObject({
      width: 1280, height: 720, rotation: 0, videoCodec: "h264", frameRate: 30, pixelFormat: "yuv420p",
      audioCodec: "aac", channels: 1, sampleRate: 48000,
    });
    expect(meta.container).toMatch(/mp4/);
    expect(meta.duration).toBeCloseTo(6.0, 1);
    expect(meta.bitRate).toBeGreaterThan(0);
  });

  it("reports the rotated phone clip as displayed: 360x640, with ffprobe's rotation", async () => {
    const meta = await probe.describe(source("video/portrait-rotate-90-360x640-3s.mp4", "video/mp4"));
    expect([meta.width, meta.height]).toEqual([360, 640]);
    expect([90, -90]).toContain(meta.rotation);
    expect(meta.duration).toBeCloseTo(3.0, 1);
  });

  it("reads the WebM: VP9 + Opus, 640x360, 3 s, 25 fps", async () => {
    const meta = await probe.describe(source("video/vp9-opus-640x360-3s.webm", "video/webm"));
    expect(meta).toMatchObject({ width: 640, height: 360, videoCodec: "vp9", frameRate: 25, audioCodec: "opus", channels: 1, sampleRate: 48000 });
    expect(meta.container).toMatch(/webm/);
    expect(meta.duration).toBeCloseTo(3.0, 1);
  });

  it("reads the Ogg Vorbis speech: 6.95 s, mono, 44.1 kHz, no video facts", async () => {
    const meta = await probe.describe(source("audio/speech-espeak-en.ogg", "audio/ogg"));
    expect(meta).toMatchObject({ container: "ogg", audioCodec: "vorbis", channels: 1, sampleRate: 44100 });
    expect(meta.duration).toBeCloseTo(6.95, 2);
    expect(meta).not.toHaveProperty("width");
    expect(meta).not.toHaveProperty("videoCodec");
  });

  it("copies a source without a local path (S3) to a private temp file: the same facts, nothing left behind", async () => {
    const tempDir = await mkdtemp(join(tmpdir(), "assetd-probe-test-"));
    try {
      const viaCopy = createFfprobe({ tempDir });
      for (const [file, type] of [
        ["video/h264-aac-1280x720-6s.mp4", "video/mp4"], ["audio/speech-espeak-en.ogg", "audio/ogg"], ["video/vp9-opus-640x360-3s.webm", "video/webm"],
      ] as const) {
        // Through a pipe the Ogg had no duration and this moov-at-end MP4 no pixel format.
        expect(await viaCopy.describe(source(file, type, "memory"))).toEqual(await probe.describe(source(file, type, "path")));
      }
      await appErrorOf(viaCopy.describe(source("video/truncated-50pct-no-moov.mp4", "video/mp4", "memory")));
      expect(await readdir(tempDir)).toEqual([]);
    } finally {
      await rm(tempDir, { recursive: true, force: true });
    }
  });

  it("refuses the truncated MP4 (no moov) as undecodable_media, ffprobe's words kept out of the message", async () => {
    for (const via of ["path", "memory"] as const) {
      const error = await appErrorOf(probe.describe(source("video/truncated-50pct-no-moov.mp4", "video/mp4", via)));
      expect(error.code).toBe("undecodable_media");
      expect(error.status).toBe(422);
      expect(error.message).not.toMatch(/moov|fixtures|\//);
      expect(String((error.cause as Error).message)).toMatch(/moov atom not found/);
    }
  });

  it("refuses bytes that are not media at all", async () => {
    const error = await appErrorOf(probe.describe({ read: async () => Buffer.from("plain text, not a video"), contentType: "video/mp4" }));
    expect(error.code).toBe("undecodable_media");
  });

  it("says a missing stored file is our problem (internal), not the uploader's", async () => {
    const error = await appErrorOf(probe.describe({ path: "/nonexistent/blob.mp4", read: async () => Buffer.alloc(0), contentType: "video/mp4" }));
    expect(error.code).toBe("internal");
  });

  it("status() names the version", async () => {
    const status = await probe.status();
    expect(status.available).toBe(true);
    expect(status.version).toMatch(/^ffprobe \d/);
  });
});

describe("ffprobe: when the tool is missing or misbehaves", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "assetd-fake-ffprobe-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fakeTool(name: string, script: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${script}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it("ENOENT: describe returns mediaFactsUnavailable (the asset still becomes ready), status says why", async () => {
    const missing = createFfprobe({ binary: join(tmpdir(), "no-such-dir-assetd", "ffprobe") });
    expect(await missing.describe(source("video/h264-aac-1280x720-6s.mp4", "video/mp4"))).toEqual({ mediaFactsUnavailable: "ffprobe is not installed" });
    expect(await missing.status()).toEqual({ name: "ffprobe", available: false, reason: "ffprobe is not installed" });
  });

  it("kills a hung ffprobe at the timeout and reports undecodable_media", async () => {
    // No `exec`: the shell is killed while its child sleep still holds the output pipes.
    const hung = createFfprobe({ binary: await fakeTool("hung", "sleep 20; true"), timeoutMs: 300 });
    const started = Date.now();
    const error = await appErrorOf(hung.describe(source("video/h264-aac-1280x720-6s.mp4", "video/mp4")));
    expect(error.code).toBe("undecodable_media");
    expect(String((error.cause as Error).message)).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("runs at most maxConcurrency processes at once", async () => {
    const slow = await fakeTool("slow", `sleep 0.3; echo '{"streams":[{"codec_type":"audio","codec_name":"fake"}],"format":{}}'`);
    const one = createFfprobe({ binary: slow, budget: createCpuBudget({ slots: 1 }) });
    const started = Date.now();
    const results = await Promise.all([1, 2, 3].map(() => one.describe(source("audio/speech-espeak-en.ogg", "audio/ogg"))));
    expect(results.every((m) => m.audioCodec === "fake")).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
  });

  it("passes arguments without a shell: a path with shell metacharacters is just a path", async () => {
    const echoArgs = await fakeTool("echo-args", `for a in "$@"; do last="$a"; done; printf '{"streams":[{"codec_type":"audio","codec_name":"%s"}],"format":{}}' "$last"`);
    const meta = await createFfprobe({ binary: echoArgs }).describe({ path: "/tmp/x; rm -rf $HOME `id`", read: async () => Buffer.alloc(0), contentType: "audio/ogg" });
    expect(meta.audioCodec).toBe("file:/tmp/x; rm -rf $HOME `id`");
  });
});
