import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

interface Cue { start: number; end: number; uri: string; x: number; y: number; w: number; h: number }

/** A small WebVTT reader: header, then blocks of `start --> end` and one text line. */
function parseVtt(text: string): Cue[] {
  const [header, ...blocks] = text.trim().split(/\n\n+/);
  expect(header).toBe("WEBVTT");
  const seconds = (t: string) => {
    const [h, m, s] = t.split(":");
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  };
  return blocks.map((block) => {
    const [timing, payload] = block.split("\n");
    const match = /^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})$/.exec(timing!);
    expect(match).not.toBeNull();
    const frag = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload!);
    expect(frag).not.toBeNull();
    return { start: seconds(match![1]!), end: seconds(match![2]!), uri: frag![1]!, x: +frag![2]!, y: +frag![3]!, w: +frag![4]!, h: +frag![5]! };
  });
}

describe("video storyboards", () => {
  let app: TestApp;
  let owner: string;
  const put = async (name: string, type: string) => {
    const res = await upload(app, owner, fixture(name), { "content-type": type });
    return settled(app, owner, res.body.id, 30_000);
  };
  const get = (path: string, headers: Record<string, string> = bearer(owner)) => fetch(`${app.url}${path}`, { headers });

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("sam");
  });
  afterAll(() => app.close());

  it("makes a sprite of grid × tile pixels and a VTT whose cues cover the video and point inside it; both cached", async () => {
    const video = await put("video/h264-aac-1280x720-6s.mp4", "video/mp4");
    const vttRes = await get(`/a/${video.id}/storyboard.vtt`);
    expect(vttRes.status).toBe(200);
    expect(vttRes.headers.get("content-type")).toMatch(/^text\/vtt/);
    const cues = parseVtt(await vttRes.text());
    expect(cues).toHaveLength(10);
    expect(cues[0]!.start).toBe(0);
    expect(cues.at(-1)!.end).toBeCloseTo(video.meta.duration as number, 2);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.start).toBe(cues[i - 1]!.end);

    const spriteRes = await get(`/a/${video.id}/storyboard.jpg`);
    expect(spriteRes.status).toBe(200);
    expect(spriteRes.headers.get("content-type")).toBe("image/jpeg");
    const sprite = Buffer.from(await spriteRes.arrayBuffer());
    const { width, height } = await sharp(sprite).metadata();
    // Default: 10 tiles of 160x90 in 4 columns, 3 rows.
    expect({ width, height }).toEqual({ width: 4 * 160, height: 3 * 90 });
    for (const cue of cues) {
      expect(cue.uri).toBe("storyboard.jpg");
      expect(cue.x + cue.w).toBeLessThanOrEqual(width!);
      expect(cue.y + cue.h).toBeLessThanOrEqual(height!);
      expect({ w: cue.w, h: cue.h }).toEqual({ w: 160, h: 90 });
    }
    // Tiles show different frames (testsrc2 moves): the first and the last differ.
    const tile = (x: number, y: number) => sharp(sprite).extract({ left: x, top: y, width: 160, height: 90 }).raw().toBuffer();
    expect((await tile(0, 0)).equals(await tile(cues[9]!.x, cues[9]!.y))).toBe(false);

    const again = await get(`/a/${video.id}/storyboard.jpg`, bearer(app.admin));
    expect(again.headers.get("x-cache")).toBe("HIT");
    expect(again.headers.get("etag")).toBe(spriteRes.headers.get("etag"));
    const recipes = (await app.runtime.repos.variants.listByBlob(video.sha256)).map((v) => v.recipe).sort();
    expect(recipes).toEqual(["storyboard.jpg", "storyboard.vtt"]);
  });

  it("takes n, w and cols; cue URIs carry them; a rotated phone video stays upright", async () => {
    const video = await put("video/portrait-rotate-90-360x640-3s.mp4", "video/mp4");
    const cues = parseVtt(await (await get(`/a/${video.id}/storyboard.vtt?n=6&w=90&cols=3`)).text());
    expect(cues).toHaveLength(6);
    expect(cues[0]!.uri).toBe("storyboard.jpg?n=6&w=90&cols=3");
    const sprite = await get(`/a/${video.id}/${cues[0]!.uri}`);
    expect(await sharp(Buffer.from(await sprite.arrayBuffer())).metadata()).toMatchObject({ width: 3 * 90, height: 2 * 160 });
    expect(cues.at(-1)).toMatchObject({ x: 180, y: 160, w: 90, h: 160 });
  });

  it("follows the access rules of stills and refuses bad parameters and non-videos", async () => {
    const video = await put("video/vp9-opus-640x360-3s.webm", "video/webm");
    expect((await get(`/a/${video.id}/storyboard.jpg`, {})).status).toBe(404);
    const stranger = await app.token("eve");
    expect((await get(`/a/${video.id}/storyboard.vtt`, bearer(stranger))).status).toBe(404);
    const bad = await get(`/a/${video.id}/storyboard.jpg?n=1000`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({ code: "invalid_parameter", parameter: "n" });
    const photo = await put("photos/cmyk-fig-1200x812.jpg", "image/jpeg");
    const refused = await get(`/a/${photo.id}/storyboard.jpg`);
    expect(refused.status).toBe(415);
    expect((await json(refused)).error.code).toBe("transform_unsupported");
    const broken = await put("video/truncated-50pct-no-moov.mp4", "video/mp4");
    const undecodable = await get(`/a/${broken.id}/storyboard.vtt`);
    expect(undecodable.status).toBe(422);
  });

  it("serves public storyboards to anyone as immutable", async () => {
    const res = await upload(app, owner, fixture("video/vp9-opus-640x360-3s.webm"), { "content-type": "video/webm" }, "?public=true");
    const video = await settled(app, owner, res.body.id, 30_000);
    expect(video.public).toBe(true);
    const sprite = await get(`/a/${video.id}/storyboard.jpg?n=4`, {});
    expect(sprite.status).toBe(200);
    expect(sprite.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(sprite.headers.get("x-cache")).toBeNull();
  });
});
