import { describe, expect, it } from "vitest";
import { parseStoryboardQuery, signStoryboardVtt, storyboardCacheKey, storyboardLayout, storyboardVtt, vttTimestamp } from "./storyboard.js";
import { checkSignature } from "./signed-url.js";

const video = { width: 1280, height: 720, duration: 6, fps: 30 };

describe("storyboard layout", () => {
  it("defaults to 10 frames of 160 px in a near-square grid covering the duration", () => {
    const layout = storyboardLayout({}, video, 50_000_000);
    expect(layout).toMatchObject({ frames: 10, columns: 4, rows: 3, tileWidth: 160, tileHeight: 90, width: 640, height: 270 });
    expect(layout.cues[0]).toMatchObject({ start: 0, end: 0.6, at: 0.3, x: 0, y: 0 });
    expect(layout.cues[9]).toMatchObject({ end: 6, x: 160, y: 180 });
    for (let i = 1; i < layout.cues.length; i++) expect(layout.cues[i]!.start).toBe(layout.cues[i - 1]!.end);
  });

  it("takes n, w and cols; never makes tiles wider than the video; keeps the last frame before the end", () => {
    const layout = storyboardLayout({ frames: 3, tileWidth: 640, columns: 5 }, { width: 360, height: 640, duration: 0.05 }, 50_000_000);
    expect(layout).toMatchObject({ frames: 3, columns: 3, rows: 1, tileWidth: 360, tileHeight: 640, width: 1080, height: 640 });
    expect(layout.cues.every((cue) => cue.at <= 0.05 - 1.5 / 25 + 1e-9 || cue.at === 0)).toBe(true);
  });

  it("scales the default frame count with long videos, at most 100", () => {
    expect(storyboardLayout({}, { ...video, duration: 600 }, 50_000_000).frames).toBe(60);
    expect(storyboardLayout({}, { ...video, duration: 7200 }, 50_000_000).frames).toBe(100);
  });

  it("refuses a sprite beyond the output pixel limit before any decoding", () => {
    expect(() => storyboardLayout({ frames: 100, tileWidth: 640 }, video, 1_000_000)).toThrow(expect.objectContaining({ code: "output_too_large" }));
  });
});

describe("storyboard parameters", () => {
  it("validates n, w and cols and names the parameter", () => {
    expect(parseStoryboardQuery({ n: "20", w: "200", cols: "5", sig: "x", exp: "1" })).toEqual({ frames: 20, tileWidth: 200, columns: 5 });
    expect(() => parseStoryboardQuery({ n: "0" })).toThrow(expect.objectContaining({ code: "invalid_parameter", details: expect.objectContaining({ parameter: "n" }) }));
    expect(() => parseStoryboardQuery({ w: "10.5" })).toThrow(expect.objectContaining({ code: "invalid_parameter" }));
    expect(() => parseStoryboardQuery({ fit: "cover" })).toThrow(expect.objectContaining({ code: "invalid_parameter" }));
  });

  it("keys the sprite and the VTT apart, and by parameters", () => {
    const a = storyboardCacheKey("sha", {}, "jpg", "v1");
    expect(a).not.toBe(storyboardCacheKey("sha", {}, "vtt", "v1"));
    expect(a).not.toBe(storyboardCacheKey("sha", { frames: 5 }, "jpg", "v1"));
    expect(a).toBe(storyboardCacheKey("sha", {}, "jpg", "v1"));
  });
});

describe("storyboard WebVTT", () => {
  it("writes one cue per tile pointing inside the sprite", () => {
    const layout = storyboardLayout({ frames: 2 }, video, 50_000_000);
    expect(storyboardVtt(layout, "storyboard.jpg?n=2")).toBe(
      "WEBVTT\n\n00:00:00.000 --> 00:00:03.000\nstoryboard.jpg?n=2#xywh=0,0,160,90\n\n"
      + "00:00:03.000 --> 00:00:06.000\nstoryboard.jpg?n=2#xywh=160,0,160,90\n",
    );
    expect(vttTimestamp(3725.5)).toBe("01:02:05.500");
  });

  it("signs the sprite URIs of a signed VTT with its expiry", () => {
    const keys = { keys: ["k".repeat(32)] };
    const layout = storyboardLayout({ frames: 1 }, video, 50_000_000);
    const signed = signStoryboardVtt(storyboardVtt(layout, "storyboard.jpg?n=1"), "/a/abc/storyboard.vtt", 2_000_000_000, keys);
    const uri = signed.split("\n")[3]!;
    expect(uri).toMatch(/^\/a\/abc\/storyboard\.jpg\?.*sig=.*#xywh=0,0,160,90$/);
    const url = new URL(uri, "http://x");
    expect(checkSignature(url.pathname, url.searchParams, keys, 1_900_000_000).kind).toBe("valid");
  });
});
