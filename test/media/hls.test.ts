import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawKey } from "../../src/domain/content-address.js";
import { AppError } from "../../src/domain/errors.js";
import { hlsPrefix } from "../../src/domain/hls.js";
import { createHlsTranscoder, type HlsOutput, type HlsTranscoder } from "../../src/media/video/hls.js";
import { createHlsWorkspaces } from "../../src/media/video/hls-workspace.js";
import { createFfprobe } from "../../src/media/video/probe.js";
import type { BlobStore } from "../../src/ports/blob-store.js";
import { silentLogger } from "../../src/ports/logger.js";
import type { AssetRow, BlobRow, Repos } from "../../src/ports/repos.js";
import { createHlsService } from "../../src/services/hls.js";
import { createFsStore } from "../../src/storage/fs/fs-store.js";
import { fixturePath } from "../helpers/fixtures.js";

const ffmpegMissing = spawnSync("ffmpeg", ["-version"]).error ?? spawnSync("ffprobe", ["-version"]).error;
if (ffmpegMissing) console.warn(`skipping HLS transcode tests: ffmpeg/ffprobe not on PATH (${ffmpegMissing.message})`);
const withFfmpeg = describe.skipIf(Boolean(ffmpegMissing));

const LANDSCAPE = fixturePath("video/h264-aac-1280x720-6s.mp4");
const PORTRAIT = fixturePath("video/portrait-rotate-90-360x640-3s.mp4");
const TRUNCATED = fixturePath("video/truncated-50pct-no-moov.mp4");

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "assetd-hls-test-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function ffprobe(args: string[]): string {
  const out = spawnSync("ffprobe", ["-v", "error", ...args], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`ffprobe failed: ${out.stderr}`);
  // MPEG-TS streams are listed again under their program: keep the first line.
  return out.stdout.trim().split("\n")[0]!.trim();
}

/** The segment names and the sum of their #EXTINF durations. */
function parseRungPlaylist(text: string): { segments: string[]; total: number } {
  const lines = text.split("\n");
  expect(lines[0]).toBe("#EXTM3U");
  expect(text).toContain("#EXT-X-ENDLIST");
  const total = lines.filter((l) => l.startsWith("#EXTINF:")).reduce((sum, l) => sum + parseFloat(l.slice(8)), 0);
  return { segments: lines.filter((l) => l !== "" && !l.startsWith("#")), total };
}

/** A rung's init segment followed by its first media segment: a file ffprobe can read on its own. */
async function firstSegment(rungDir: string): Promise<string> {
  const init = (await readdir(rungDir)).find((f) => /^init(_\d+)?\.mp4$/.test(f));
  expect(init).toBeDefined();
  const joined = join(rungDir, "probe.mp4");
  await writeFile(joined, Buffer.concat([await readFile(join(rungDir, init!)), await readFile(join(rungDir, "seg_00000.m4s"))]));
  return joined;
}

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

withFfmpeg("HLS transcoder (ffmpeg)", () => {
  const transcoder = createHlsTranscoder();
  let out: string;
  let result: HlsOutput;
  let elapsedMs: number;

  beforeAll(async () => {
    out = join(tmp, "landscape");
    const started = performance.now();
    result = await transcoder.transcode(
      { path: LANDSCAPE, read: () => readFile(LANDSCAPE), width: 1280, height: 720, duration: 6, frameRate: 30 }, out,
    );
    elapsedMs = performance.now() - started;
    console.info(`HLS: 6 s 1280x720 fixture -> 3 rungs in ${Math.round(elapsedMs)} ms `
      + `(~${((elapsedMs / 1000) * 10).toFixed(0)} s of transcode per minute of 720p source)`);
  }, 120_000);

  it("writes 720p/480p/360p (no 1080p above a 720p source) and a master listing them", async () => {
    expect(result.renditions.map((r) => r.name)).toEqual(["720p", "480p", "360p"]);
    const master = await readFile(join(out, "master.m3u8"), "utf8");
    expect(master.startsWith("#EXTM3U\n#EXT-X-VERSION:3\n")).toBe(true);
    expect(master).toContain("RESOLUTION=1280x720,");
    expect(master).toContain("RESOLUTION=854x480,");
    expect(master).toContain("RESOLUTION=640x360,");
    expect(master).not.toContain("1080");
    expect(master.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual(["720p/index.m3u8", "480p/index.m3u8", "360p/index.m3u8"]);
    expect(result.files.at(-1)).toBe("master.m3u8");
  });

  it("segments every rung into ~4 s pieces that add up to the source's 6 s, all on disk", async () => {
    for (const r of result.renditions) {
      const { segments, total } = parseRungPlaylist(await readFile(join(out, r.name, "index.m3u8"), "utf8"));
      expect(total).toBeGreaterThan(5.5);
      expect(total).toBeLessThan(6.5);
      expect(segments.length).toBe(2); // 4 s + 2 s
      for (const segment of segments) {
        expect(segment).toMatch(/^seg_\d{5}\.m4s$/);
        expect((await stat(join(out, r.name, segment))).size).toBeGreaterThan(0);
        expect(result.files).toContain(`${r.name}/${segment}`);
      }
    }
  });

  it("encodes H.264 High at the rung's size and AAC stereo, in fragmented MP4 with an init segment", async () => {
    for (const r of result.renditions) {
      const rung = await readFile(join(out, r.name, "index.m3u8"), "utf8");
      expect(rung).toMatch(/#EXT-X-MAP:URI="init(_\d+)?\.mp4"/);
      const segment = await firstSegment(join(out, r.name));
      const video = ffprobe(["-select_streams", "v:0", "-show_entries", "stream=codec_name,profile,width,height", "-of", "csv=p=0", segment]);
      expect(video).toBe(`h264,High,${r.width},${r.height}`);
      const audio = ffprobe(["-select_streams", "a:0", "-show_entries", "stream=codec_name,channels", "-of", "csv=p=0", segment]);
      expect(audio).toBe("aac,2");
    }
  });

  it("gives a master playlist ffprobe reads as ~6 s", () => {
    const duration = Number(ffprobe(["-protocol_whitelist", "file", "-show_entries", "format=duration", "-of", "csv=p=0", join(out, "master.m3u8")]));
    expect(duration).toBeGreaterThan(5.5);
    expect(duration).toBeLessThan(6.5);
  });

  it("writes a DASH manifest of the same segments that ffprobe reads as every rung, ~6 s", async () => {
    expect(result.files).toContain("manifest.mpd");
    // The MPD is served from dash/ beside hls/ and names the files as ../hls/<rung>/...
    const site = join(tmp, "site");
    await mkdir(join(site, "dash"), { recursive: true });
    await symlink(out, join(site, "hls"));
    await writeFile(join(site, "dash", "manifest.mpd"), await readFile(join(out, "manifest.mpd")));
    const probe = spawnSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height:format=duration", "-of", "json", join(site, "dash", "manifest.mpd")], { encoding: "utf8" });
    expect(probe.status, probe.stderr).toBe(0);
    const { streams, format } = JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width?: number }>; format: { duration: string } };
    expect(streams.filter((s) => s.codec_name === "h264").map((s) => s.width).sort()).toEqual(result.renditions.map((r) => r.width).sort());
    expect(streams.some((s) => s.codec_name === "aac")).toBe(true);
    expect(Number(format.duration)).toBeGreaterThan(5.5);
    expect(Number(format.duration)).toBeLessThan(6.5);
  });

  it("applies the rotation: a 90°-rotated phone clip becomes a 360x640 portrait rung (from memory, no path)", async () => {
    const dir = join(tmp, "portrait");
    const { renditions } = await transcoder.transcode({ read: () => readFile(PORTRAIT), width: 360, height: 640, duration: 3 }, dir);
    expect(renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(["360p 360x640"]);
    const size = ffprobe(["-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", await firstSegment(join(dir, "360p"))]);
    expect(size).toBe("360,640");
  }, 60_000);

  it("refuses videos longer than maxDurationSec before running ffmpeg", async () => {
    const short = createHlsTranscoder({ maxDurationSec: 5, binary: "/nonexistent/ffmpeg" });
    const error = await appErrorOf(short.transcode({ path: LANDSCAPE, read: () => readFile(LANDSCAPE), width: 1280, height: 720, duration: 6 }, join(tmp, "long")));
    expect(error.code).toBe("output_too_large");
  });

  it("refuses frames above maxPixels", async () => {
    const small = createHlsTranscoder({ maxPixels: 640 * 360 });
    const error = await appErrorOf(small.transcode({ path: LANDSCAPE, read: () => readFile(LANDSCAPE), width: 1280, height: 720, duration: 6 }, join(tmp, "big")));
    expect(error.code).toBe("pixel_limit_exceeded");
  });

  it("says dependency_down when ffmpeg is missing", async () => {
    const missing = createHlsTranscoder({ binary: join(tmp, "no-ffmpeg-here") });
    expect(await missing.status()).toEqual({ name: "no-ffmpeg-here", available: false, reason: "no-ffmpeg-here is not installed" });
    expect((await transcoder.status()).version).toMatch(/^ffmpeg \d/);
    const error = await appErrorOf(missing.transcode({ path: LANDSCAPE, read: () => readFile(LANDSCAPE), width: 1280, height: 720, duration: 6 }, join(tmp, "missing")));
    expect(error.code).toBe("dependency_down");
  });

  it("fails a broken file as undecodable_media with ffmpeg's words in cause only, leaving no output", async () => {
    const dir = join(tmp, "truncated");
    const error = await appErrorOf(transcoder.transcode({ path: TRUNCATED, read: () => readFile(TRUNCATED), width: 1280, height: 720, duration: 6 }, dir));
    expect(error.code).toBe("undecodable_media");
    expect(error.message).not.toContain(TRUNCATED);
    expect(String((error.cause as Error).message)).toMatch(/^ffmpeg: /);
    await expect(stat(dir)).rejects.toThrow();
  }, 60_000);
});

withFfmpeg("HLS service (fs store, real ffmpeg)", () => {
  let store: BlobStore;
  let calls = 0;
  const assets = new Map<string, AssetRow>();
  const blobs = new Map<string, BlobRow>();

  // Stands in for the database only: just the two lookups the service makes.
  const repos = {
    assets: { get: async (id: string) => assets.get(id) },
    blobs: { get: async (sha: string) => blobs.get(sha) },
  } as unknown as Pick<Repos, "assets" | "blobs">;

  async function addVideo(id: string, file: string, meta: AssetRow["meta"] = null): Promise<string> {
    const bytes = await readFile(file);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    await store.put(rawKey(sha256), bytes);
    blobs.set(sha256, { sha256, size: bytes.length, storageKey: rawKey(sha256), sniffedType: "video/mp4", refcount: 1, tier: "hot", createdAt: 0, lastVerifiedAt: null, replicated: false });
    assets.set(id, {
      id, owner: "u", blobSha256: sha256, filename: "v.mp4", declaredType: null, contentType: "video/mp4", kind: "video",
      size: bytes.length, status: "ready", failure: null, public: true, meta, tags: {}, createdAt: 0, updatedAt: 0, deletedAt: null,
    });
    return sha256;
  }

  function service(storeOverride?: BlobStore) {
    const real = createHlsTranscoder();
    const counting: HlsTranscoder = { ...real, transcode: (...args) => { calls++; return real.transcode(...args); } };
    return createHlsService({
      store: storeOverride ?? store, repos, probe: createFfprobe(), transcoder: createHlsWorkspaces(counting, { tempDir: tmp }),
      assets: { findForDelivery: async () => { throw new Error("not used by these tests"); } },
      queue: { enqueue: async () => { throw new Error("not used by these tests"); } },
      logger: silentLogger, clock: { now: () => Date.now() },
    });
  }

  beforeAll(async () => {
    store = await createFsStore(join(tmp, "store"));
  });

  it("stores the ladder once per content (probing when the manifest has no facts) and serves its files", async () => {
    const hls = service();
    const sha = await addVideo("a1", PORTRAIT);
    expect(await hls.status(sha)).toBe("missing");

    await hls.job({ assetId: "a1" });
    expect(calls).toBe(1);
    expect(await hls.status(sha)).toBe("ready");

    const master = await hls.file(sha, "master.m3u8");
    expect(master.contentType).toBe("application/vnd.apple.mpegurl");
    expect(master.data.toString()).toContain('RESOLUTION=360x640,CODECS="avc1.64001e,mp4a.40.2"');
    const segment = await hls.file(sha, "360p/seg_00000.m4s");
    expect(segment.contentType).toBe("video/iso.segment");
    expect(["styp", "moof"]).toContain(segment.data.subarray(4, 8).toString("latin1")); // an ISO BMFF media segment
    const mpd = await hls.file(sha, "manifest.mpd");
    expect(mpd.contentType).toBe("application/dash+xml");
    expect(mpd.data.toString()).toContain('<Initialization sourceURL="../hls/360p/init.mp4"/>');

    const keys: string[] = [];
    for await (const o of store.list(hlsPrefix(sha) + "/")) keys.push(o.key.slice(hlsPrefix(sha).length + 1));
    expect(keys.sort()).toEqual(["360p/index.m3u8", "360p/init.mp4", "360p/seg_00000.m4s", "manifest.mpd", "master.m3u8"]);

    // Same job again, and another asset with the same bytes: no second transcode.
    assets.set("a2", { ...assets.get("a1")!, id: "a2" });
    await hls.job({ assetId: "a1" });
    await hls.job({ assetId: "a2" });
    expect(calls).toBe(1);
  }, 60_000);

  it("answers NotFound for names outside the allow-list and files that do not exist", async () => {
    const hls = service();
    const sha = [...blobs.keys()][0]!;
    for (const name of ["../x", "master.m3u8/../..", "failed.json", "720p/index.m3u8"]) {
      const error = await appErrorOf(hls.file(sha, name));
      expect(error.code).toBe("not_found");
    }
  });

  it("works with a store that has no local paths (streams the source to a temp file)", async () => {
    const noPaths: BlobStore = { ...store, localPath: undefined };
    delete (noPaths as { localPath?: unknown }).localPath;
    const hls = service(noPaths);
    const sha = await addVideo("a3", LANDSCAPE, { width: 1280, height: 720, duration: 6, frameRate: 30, audioCodec: "aac" });
    await hls.job({ assetId: "a3" });
    expect(await hls.status(sha)).toBe("ready");
    expect((await hls.file(sha, "master.m3u8")).data.toString().match(/#EXT-X-STREAM-INF/g)).toHaveLength(3);
  }, 120_000);

  it("marks undecodable content failed instead of retrying forever", async () => {
    const hls = service();
    const sha = await addVideo("a4", TRUNCATED, { width: 1280, height: 720, duration: 6 });
    const before = calls;
    await hls.job({ assetId: "a4" });
    expect(await hls.status(sha)).toBe("failed");
    expect((await hls.failure(sha))?.code).toBe("undecodable_media");
    await hls.job({ assetId: "a4" }); // a redelivered job does not run ffmpeg again
    expect(calls).toBe(before + 1);
  }, 60_000);

  it("ignores assets that are missing, not ready or not video", async () => {
    const hls = service();
    const before = calls;
    await hls.job({ assetId: "nope" });
    assets.set("img", { ...assets.get("a1")!, id: "img", kind: "image" });
    await hls.job({ assetId: "img" });
    expect(calls).toBe(before);
  });
});
