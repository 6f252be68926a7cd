import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { LADDER_VERSION } from "../../src/domain/hls.js";
import { fixture } from "../helpers/fixtures.js";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
if (!hasFfmpeg) console.warn("[hls] skipping: Debian's ffmpeg is not installed");

/** The adaptive stream of an uploaded MP4, end to end, read back by a real player (ffprobe over HTTP). */
describe.skipIf(!hasFfmpeg)("HLS", () => {
  let app: TestApp;
  let owner: string;

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("hal");
  });
  afterAll(() => app.close());

  it("queues the ladder (202), then serves a master playlist whose every rendition and segment is served", async () => {
    const created = await upload(app, owner, fixture("video/h264-aac-1280x720-6s.mp4"), { "content-type": "video/mp4" }, "?public=true");
    const video = await settled(app, owner, created.body.id, 30_000);
    expect(video.urls.hls).toBe(`${app.url}/a/${video.id}/hls/master.m3u8`);
    expect(video.urls.dash).toBe(`${app.url}/a/${video.id}/dash/manifest.mpd`);

    expect(video.streaming).toEqual({ hls: "none" });
    const first = await fetch(video.urls.hls);
    expect(first.status).toBe(202);
    expect(first.headers.get("retry-after")).toBe("5");
    expect(first.headers.get("location")).toBe(`/a/${video.id}/hls/master.m3u8`);
    await first.arrayBuffer();

    const deadline = Date.now() + 120_000;
    let master: Response;
    const seen = new Set<string>();
    do {
      await new Promise((r) => setTimeout(r, 200));
      seen.add((await json(await fetch(`${app.url}/v1/assets/${video.id}`))).streaming.hls);
      master = await fetch(video.urls.hls);
    } while (master.status === 202 && Date.now() < deadline);
    // The manifest shows the work under way (a transcode takes seconds; we look every 200 ms).
    expect(seen.has("transcoding")).toBe(true);
    expect(master.status).toBe(200);
    expect((await json(await fetch(`${app.url}/v1/assets/${video.id}`))).streaming).toEqual({ hls: "ready" });
    expect(master.headers.get("content-type")).toMatch(/^application\/vnd\.apple\.mpegurl/);
    expect(master.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const text = await master.text();
    const streams = [...text.matchAll(/#EXT-X-STREAM-INF:([^\n]+)\n([^\n]+)/g)];
    expect(streams.map((m) => /RESOLUTION=(\d+x\d+)/.exec(m[1]!)![1])).toEqual(["1280x720", "854x480", "640x360"]);
    for (const [, attributes] of streams) {
      expect(attributes).toMatch(/BANDWIDTH=\d+/);
      expect(attributes).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    }

    for (const [, , playlistPath] of streams) {
      const base = `${app.url}/a/${video.id}/hls/${playlistPath!.replace(/index\.m3u8$/, "")}`;
      const playlist = await fetch(`${app.url}/a/${video.id}/hls/${playlistPath}`);
      expect(playlist.status).toBe(200);
      const body = await playlist.text();
      const durations = [...body.matchAll(/#EXTINF:([0-9.]+)/g)].map((m) => Number(m[1]));
      expect(durations.reduce((a, b) => a + b, 0)).toBeCloseTo(6, 0);
      const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(body)?.[1];
      expect(init).toMatch(/^init_\d\.mp4$/);
      const initRes = await fetch(base + init);
      expect(initRes.headers.get("content-type")).toBe("video/mp4");
      expect((await initRes.arrayBuffer()).byteLength).toBeGreaterThan(0);
      const segments = body.split("\n").filter((line) => line.endsWith(".m4s"));
      expect(segments).toHaveLength(2);
      for (const segment of segments) {
        const res = await fetch(base + segment);
        expect(res.status, segment).toBe(200);
        expect(res.headers.get("content-type")).toBe("video/iso.segment");
        expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
      }
    }

    // A real player-like check: ffprobe reads the stream over HTTP from the running server
    // (asynchronously: the server answers from this same process).
    const { stdout } = await promisify(execFile)("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", video.urls.hls], { timeout: 60_000 });
    expect(Number(stdout.trim())).toBeGreaterThan(5.5);
    expect(Number(stdout.trim())).toBeLessThan(6.5);

    expect((await fetch(`${app.url}/a/${video.id}/hls/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${app.url}/a/${video.id}/hls/720p/other.txt`)).status).toBe(404);

    // DASH: the same ladder through an MPD whose segment URLs are the HLS files above.
    const mpd = await fetch(video.urls.dash);
    expect(mpd.status).toBe(200);
    expect(mpd.headers.get("content-type")).toMatch(/^application\/dash\+xml/);
    expect(mpd.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const xml = await mpd.text();
    const sources = [...xml.matchAll(/(?:sourceURL|media)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toHaveLength(3 * 3); // per rung: init + 2 segments
    for (const source of sources) expect(source).toMatch(/^\.\.\/hls\/\d+p\/(init_\d\.mp4|seg_\d{5}\.m4s)$/);
    const probe = await promisify(execFile)("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width:format=duration", "-of", "json", video.urls.dash], { timeout: 60_000 });
    const read = JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string; width?: number }>; format: { duration: string } };
    expect(read.streams.filter((x) => x.codec_name === "h264").map((x) => x.width)).toEqual([1280, 854, 640]);
    expect(read.streams.some((x) => x.codec_name === "aac")).toBe(true);
    expect(Number(read.format.duration)).toBeGreaterThan(5.5);
    expect(Number(read.format.duration)).toBeLessThan(6.5);
    // One URL per file: no MPD under hls/, no playlists or segments under dash/.
    for (const wrong of ["hls/manifest.mpd", "dash/master.m3u8", "dash/720p/index.m3u8", "dash/720p/seg_00000.m4s"]) {
      expect((await fetch(`${app.url}/a/${video.id}/${wrong}`)).status, wrong).toBe(404);
    }
  }, 180_000);

  it("queues the ladder from a first DASH request too (202 pointing back at the MPD)", async () => {
    const created = await upload(app, owner, fixture("video/portrait-rotate-90-360x640-3s.mp4"), { "content-type": "video/mp4" }, "?public=true");
    const video = await settled(app, owner, created.body.id, 30_000);
    const first = await fetch(video.urls.dash);
    expect(first.status).toBe(202);
    expect(first.headers.get("location")).toBe(`/a/${video.id}/dash/manifest.mpd`);
    await first.arrayBuffer();
    const deadline = Date.now() + 120_000;
    let mpd: Response;
    do {
      await new Promise((r) => setTimeout(r, 200));
      mpd = await fetch(video.urls.dash);
    } while (mpd.status === 202 && Date.now() < deadline);
    expect(mpd.status).toBe(200);
    expect(await mpd.text()).toContain('width="360" height="640"');
    expect((await fetch(video.urls.hls)).status).toBe(200);

    // A ladder of an older ladder version (MPEG-TS, h1) is never served again: gc removes it,
    // even though the content is still held, and keeps the current one.
    const current = (await app.storedObjects()).filter((key) => key.startsWith("hls/") && key.includes(video.sha256));
    expect(current.some((key) => key.includes(`/${LADDER_VERSION}/`))).toBe(true);
    const old = `hls/${video.sha256.slice(0, 2)}/${video.sha256.slice(2, 4)}/${video.sha256}/h1/360p/seg_00000.ts`;
    await app.runtime.store.put(old, Buffer.from("old ladder"));
    await new Promise((r) => setTimeout(r, 1100)); // S3 object dates are whole seconds: let it be older than "now"
    const gc = await fetch(`${app.url}/v1/admin/gc`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: "{}" });
    expect(gc.status).toBe(200);
    const after = await app.storedObjects();
    expect(after).not.toContain(old);
    for (const key of current) expect(after).toContain(key);
    expect((await fetch(video.urls.dash)).status).toBe(200);
  }, 180_000);

  it("fails a truncated video's stream cleanly and hides private streams", async () => {
    const broken = await settled(app, owner, (await upload(app, owner, fixture("video/truncated-50pct-no-moov.mp4"), { "content-type": "video/mp4" })).body.id);
    const res = await fetch(`${app.url}/a/${broken.id}/hls/master.m3u8`, { headers: bearer(owner) });
    expect(res.status).toBe(422);
    expect((await json(res)).error.code).toBe("undecodable_media");
    const other = await app.token("eve");
    expect((await fetch(`${app.url}/a/${broken.id}/hls/master.m3u8`, { headers: bearer(other) })).status).toBe(404);
  });
});
