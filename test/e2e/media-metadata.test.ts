import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** Audio, video and PDF uploads through the API end in the state and with the facts MANIFEST.md gives. */
describe("metadata of audio, video and documents", () => {
  let app: TestApp;
  let owner: string;
  const put = async (name: string, type?: string) => {
    const res = await upload(app, owner, fixture(name), type ? { "content-type": type } : {});
    expect(res.status, name).toBe(201);
    return settled(app, owner, res.body.id, 30_000);
  };

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("vic");
  });
  afterAll(() => app.close());

  it("describes an H.264/AAC MP4", async () => {
    const asset = await put("video/h264-aac-1280x720-6s.mp4", "video/mp4");
    expect(asset).toMatchObject({ status: "ready", contentType: "video/mp4", kind: "video" });
    expect(asset.meta).toMatchObject({ width: 1280, height: 720, videoCodec: "h264", audioCodec: "aac", channels: 1, sampleRate: 48000 });
    expect(asset.meta.duration).toBeCloseTo(6, 0);
    expect(asset.meta.frameRate).toBeCloseTo(30, 0);
  });

  it("reports a rotated phone video at its displayed size", async () => {
    const asset = await put("video/portrait-rotate-90-360x640-3s.mp4");
    expect(asset.status).toBe("ready");
    expect(asset.meta).toMatchObject({ width: 360, height: 640 });
  });

  it("describes WebM and Ogg audio", async () => {
    const webm = await put("video/vp9-opus-640x360-3s.webm", "video/webm");
    expect(webm.meta).toMatchObject({ width: 640, height: 360, videoCodec: "vp9", audioCodec: "opus" });
    const ogg = await put("audio/speech-espeak-en.ogg", "audio/ogg");
    expect(ogg).toMatchObject({ status: "ready", kind: "audio" });
    expect(ogg.meta).toMatchObject({ audioCodec: "vorbis", channels: 1, sampleRate: 44100 });
    expect(ogg.meta.duration).toBeCloseTo(6.95, 1);
  });

  it("fails a truncated MP4 cleanly", async () => {
    const asset = await put("video/truncated-50pct-no-moov.mp4", "video/mp4");
    expect(asset.status).toBe("failed");
    expect(asset.failure.code).toBe("undecodable_media");
  });

  it("reads a HEIC photo's header and EXIF; its transforms render (test/e2e/heic.test.ts has more)", async () => {
    const heic = await put("formats/olympus-darkesthour-1024x640.heic", "image/heic");
    expect(heic).toMatchObject({ status: "ready", contentType: "image/heic", meta: { width: 1024, height: 640, exif: { make: expect.stringMatching(/^OLYMPUS/) } } });
    const variant = await fetch(`${app.url}/a/${heic.id}?w=100`, { headers: { authorization: `Bearer ${owner}` } });
    expect(variant.status).toBe(200);
  });

  it("counts PDF pages and flags encrypted PDFs", async () => {
    const pdf = await put("documents/asymptote-asy-latex-11-pages.pdf", "application/pdf");
    expect(pdf).toMatchObject({ status: "ready", kind: "document", meta: { pages: 11, encrypted: false } });
    expect(pdf.meta.pageWidth).toBeCloseTo(595.276, 2);
    const encrypted = await put("documents/encrypted-aes256-cad-7-pages.pdf");
    expect(encrypted).toMatchObject({ status: "ready", meta: { encrypted: true } });
  });
});
