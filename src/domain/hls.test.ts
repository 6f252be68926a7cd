import { describe, expect, it } from "vitest";
import { h264Level, hlsContentType, hlsKey, hlsPrefix, isHlsFileName, LADDER_VERSION, masterPlaylist, planLadder } from "./hls.js";

const sizes = (w: number, h: number) => planLadder(w, h).map((r) => `${r.name} ${r.width}x${r.height}`);

describe("planLadder", () => {
  it("gives a 1080p source every rung, 16:9 kept with even sizes", () => {
    expect(sizes(1920, 1080)).toEqual(["1080p 1920x1080", "720p 1280x720", "480p 854x480", "360p 640x360"]);
  });

  it("never goes above the source", () => {
    expect(sizes(1280, 720)).toEqual(["720p 1280x720", "480p 854x480", "360p 640x360"]);
    expect(sizes(1280, 700)).toEqual(["480p 878x480", "360p 658x360"]);
  });

  it("names portrait rungs by the short side", () => {
    expect(sizes(360, 640)).toEqual(["360p 360x640"]);
    expect(sizes(1080, 1920)).toEqual(["1080p 1080x1920", "720p 720x1280", "480p 480x854", "360p 360x640"]);
  });

  it("gives a source below 360p one rung at its own size, rounded down to even", () => {
    expect(sizes(320, 240)).toEqual(["240p 320x240"]);
    expect(sizes(175, 99)).toEqual(["98p 174x98"]);
    const [only] = planLadder(320, 240);
    expect(only!.videoBitrate).toBe("270k");
  });

  it("sets bitrates, peak bandwidth and the H.264 level per rung", () => {
    const ladder = planLadder(1920, 1080);
    expect(ladder.map((r) => r.videoBitrate)).toEqual(["5000k", "2800k", "1400k", "800k"]);
    expect(ladder.every((r) => r.audioBitrate === "128k")).toBe(true);
    expect(ladder.map((r) => r.videoCodec)).toEqual(["avc1.640028", "avc1.64001f", "avc1.64001f", "avc1.64001e"]);
    expect(ladder[1]!.bandwidth).toBe((2996 + 128) * 1000);
    expect(ladder.every((r) => r.width % 2 === 0 && r.height % 2 === 0)).toBe(true);
    // 60 fps needs a higher level for the same size.
    expect(planLadder(1920, 1080, 60)[0]!.videoCodec).toBe("avc1.64002a");
    expect(h264Level(1280, 720, 60, 2996).level).toBe("3.2");
  });

  it("rejects nonsense sizes", () => {
    expect(() => planLadder(0, 720)).toThrow(RangeError);
    expect(() => planLadder(NaN, 720)).toThrow(RangeError);
  });
});

describe("hlsPrefix / hlsKey", () => {
  const sha = "ab".repeat(32);
  it("fans out by content hash and includes the ladder version", () => {
    expect(LADDER_VERSION).toBe("h2");
    expect(hlsPrefix(sha)).toBe(`hls/ab/ab/${sha}/h2`);
    expect(hlsKey(sha, "720p/seg_00003.m4s")).toBe(`hls/ab/ab/${sha}/h2/720p/seg_00003.m4s`);
  });
  it("refuses what is not a digest or not an allowed name", () => {
    expect(() => hlsPrefix("../../etc")).toThrow();
    expect(() => hlsKey(sha, "../x")).toThrow();
  });
});

describe("masterPlaylist", () => {
  it("lists every rung with bandwidth, resolution and codecs", () => {
    const text = masterPlaylist(planLadder(1280, 720));
    const lines = text.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual(["#EXTM3U", "#EXT-X-VERSION:3"]);
    expect(lines).toContain('#EXT-X-STREAM-INF:BANDWIDTH=3124000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"');
    const inf = lines.filter((l) => l.startsWith("#EXT-X-STREAM-INF:"));
    expect(inf).toHaveLength(3);
    for (const [i, line] of lines.entries()) {
      if (line.startsWith("#EXT-X-STREAM-INF:")) expect(lines[i + 1]).toMatch(/^\d+p\/index\.m3u8$/);
    }
    expect(lines.filter((l) => !l.startsWith("#"))).toEqual(["720p/index.m3u8", "480p/index.m3u8", "360p/index.m3u8"]);
  });

  it("leaves audio out of CODECS and BANDWIDTH for a silent video", () => {
    const text = masterPlaylist(planLadder(640, 360), { audio: false });
    expect(text).toContain('BANDWIDTH=856000,RESOLUTION=640x360,CODECS="avc1.64001e"\n');
  });
});

describe("hlsContentType", () => {
  it("names playlists, the MPD, init segments and media segments", () => {
    expect(hlsContentType("master.m3u8")).toBe("application/vnd.apple.mpegurl");
    expect(hlsContentType("manifest.mpd")).toBe("application/dash+xml");
    expect(hlsContentType("720p/init_0.mp4")).toBe("video/mp4");
    expect(hlsContentType("720p/seg_00000.m4s")).toBe("video/iso.segment");
  });
});

describe("isHlsFileName", () => {
  it("allows the master, the DASH manifest, rung playlists, init and media segments", () => {
    for (const name of ["master.m3u8", "manifest.mpd", "720p/index.m3u8", "720p/init.mp4", "720p/init_0.mp4", "1080p/init_12.mp4", "360p/seg_00000.m4s", "1080p/seg_00123.m4s", "240p/index.m3u8"]) {
      expect(isHlsFileName(name), name).toBe(true);
    }
  });
  it("rejects traversal and anything else", () => {
    for (const name of [
      "../x", "master.m3u8/../..", "720p/../master.m3u8", "/master.m3u8", "720p//index.m3u8", "720p/index.m3u8/",
      "720p\\index.m3u8", "720p/seg_1.m4s", "720p/seg_00000.m4s.bak", "failed.json", "720p/x.m3u8", "master.m3u8\n",
      "x/master.m3u8", "%2e%2e/x", "", "720p/seg_00000.mp4", "720P/index.m3u8", "720p/seg_00000.ts",
      "720p/init_123.mp4", "720p/init_.mp4", "720p/manifest.mpd", "manifest.mpd/x",
    ]) {
      expect(isHlsFileName(name), JSON.stringify(name)).toBe(false);
    }
  });
});
