import { describe, expect, it } from "vitest";
import { dashManifest, isoDuration, parseRungPlaylist } from "./dash.js";
import { planLadder } from "./hls.js";

// What ffmpeg writes for one rung with `-hls_segment_type fmp4` (a 10.2 s source, 4 s segments).
const rung = [
  "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:4", "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
  "#EXT-X-INDEPENDENT-SEGMENTS", '#EXT-X-MAP:URI="init_0.mp4"',
  "#EXTINF:4.000000,", "seg_00000.m4s", "#EXTINF:4.000000,", "seg_00001.m4s", "#EXTINF:2.200000,", "seg_00002.m4s",
  "#EXT-X-ENDLIST", "",
].join("\n");

describe("parseRungPlaylist", () => {
  it("reads the init segment and every media segment with its duration", () => {
    expect(parseRungPlaylist(rung)).toEqual({
      init: "init_0.mp4",
      segments: [{ name: "seg_00000.m4s", duration: 4 }, { name: "seg_00001.m4s", duration: 4 }, { name: "seg_00002.m4s", duration: 2.2 }],
    });
  });
  it("refuses a playlist that is not fragmented MP4, lists nothing, or has a segment without EXTINF", () => {
    expect(() => parseRungPlaylist(rung.replace(/#EXT-X-MAP.*\n/, ""))).toThrow(/EXT-X-MAP/);
    expect(() => parseRungPlaylist('#EXTM3U\n#EXT-X-MAP:URI="init_0.mp4"\n#EXT-X-ENDLIST\n')).toThrow(/no segments/);
    expect(() => parseRungPlaylist('#EXTM3U\n#EXT-X-MAP:URI="init_0.mp4"\nseg_00000.m4s\n')).toThrow(/no duration/);
  });
});

describe("isoDuration", () => {
  it("writes seconds with millisecond precision", () => {
    expect(isoDuration(10.2)).toBe("PT10.200S");
    expect(isoDuration(4)).toBe("PT4.000S");
    expect(isoDuration(1 / 3)).toBe("PT0.333S");
  });
});

describe("dashManifest", () => {
  const renditions = planLadder(1280, 720);
  const rungs = new Map(renditions.map((r, i) => [r.name, parseRungPlaylist(rung.replace("init_0.mp4", `init_${i}.mp4`))]));

  it("is a static isoff-main MPD with one representation per rung and the ladder's own files", () => {
    const mpd = dashManifest(renditions, rungs, { audio: true });
    expect(mpd).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"/);
    expect(mpd).toContain('profiles="urn:mpeg:dash:profile:isoff-main:2011" type="static" mediaPresentationDuration="PT10.200S" minBufferTime="PT4.000S"');
    const reps = [...mpd.matchAll(/<Representation id="(\w+)" bandwidth="(\d+)" width="(\d+)" height="(\d+)" codecs="([^"]+)">/g)].map((m) => m.slice(1));
    expect(reps).toEqual(renditions.map((r) => [r.name, String(r.bandwidth), String(r.width), String(r.height), `${r.videoCodec},mp4a.40.2`]));
    // Segment URLs point into the HLS directory beside dash/, so both players share one set of files.
    expect(mpd).toContain('<Initialization sourceURL="../hls/720p/init_0.mp4"/>');
    expect(mpd).toContain('<Initialization sourceURL="../hls/360p/init_2.mp4"/>');
    expect([...mpd.matchAll(/<SegmentURL media="([^"]+)"\/>/g)].map((m) => m[1]).slice(0, 3)).toEqual([
      "../hls/720p/seg_00000.m4s", "../hls/720p/seg_00001.m4s", "../hls/720p/seg_00002.m4s",
    ]);
    // Equal durations fold into one <S> with a repeat count; the timeline's sum is the duration.
    expect(mpd).toContain('<SegmentTimeline><S t="0" d="4000" r="1"/><S t="8000" d="2200"/></SegmentTimeline>');
  });

  it("leaves the audio codec and bitrate out for a silent video", () => {
    const mpd = dashManifest(renditions, rungs, { audio: false });
    const top = renditions[0]!;
    expect(mpd).toContain(`bandwidth="${top.bandwidth - parseInt(top.audioBitrate, 10) * 1000}" width="1280" height="720" codecs="${top.videoCodec}">`);
    expect(mpd).not.toContain("mp4a");
  });

  it("refuses a ladder with a rung it has no segments for", () => {
    expect(() => dashManifest(renditions, new Map([...rungs].slice(0, 1)), { audio: true })).toThrow(/no segments for rung 480p/);
  });
});
