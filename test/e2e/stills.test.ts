import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** Poster frames of videos and page renders of PDFs, through the same URL grammar as images. */
describe("video posters and PDF pages", () => {
  let app: TestApp;
  let owner: string;
  const put = async (name: string, type: string) => {
    const res = await upload(app, owner, fixture(name), { "content-type": type });
    return settled(app, owner, res.body.id, 30_000);
  };
  const get = (id: string, query: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/a/${id}?${query}`, { headers: { ...bearer(owner), ...headers } });

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("pia");
  });
  afterAll(() => app.close());

  it("renders a poster frame at t through the image recipe, cached like any variant", async () => {
    const video = await put("video/h264-aac-1280x720-6s.mp4", "video/mp4");
    expect(video.urls.thumb).toBeDefined();
    const first = await get(video.id, "t=2.5&w=640&fmt=webp");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/webp");
    expect(await sharp(Buffer.from(await first.arrayBuffer())).metadata()).toMatchObject({ width: 640, height: 360 });
    // Cache detail is shown to admins only.
    expect((await get(video.id, "t=2.5&w=640&fmt=webp", bearer(app.admin))).headers.get("x-cache")).toBe("HIT");
    const poster = await get(video.id, "w=320");
    expect(poster.headers.get("content-type")).toBe("image/jpeg");
    const other = await get(video.id, "t=0.5&w=640&fmt=webp");
    expect(other.headers.get("etag")).not.toBe(first.headers.get("etag"));
  });

  it("stops the frame extraction when its only client disconnects, and not while another still waits", async () => {
    const video = await put("video/h264-aac-1280x720-6s.mp4", "video/mp4");
    const rows = async () => (await app.runtime.repos.variants.listByBlob(video.sha256)).length;
    const rendersBefore = await rows();

    // Alone: the client gives up; the render is abandoned and nothing is stored.
    const lonely = new AbortController();
    const abandoned = get(video.id, "t=5.9&w=97", {}).catch(() => undefined);
    void abandoned;
    const request = fetch(`${app.url}/a/${video.id}?t=5.8&w=98`, { headers: bearer(owner), signal: lonely.signal }).catch(() => "aborted");
    setTimeout(() => lonely.abort(), 50);
    expect(await request).toBe("aborted");
    await abandoned;
    await new Promise((r) => setTimeout(r, 3000));
    const stored = (await app.runtime.repos.variants.listByBlob(video.sha256)).map((v) => v.recipe);
    expect(stored).toContain("t=5.9&w=97");
    expect(stored).not.toContain("t=5.8&w=98");
    expect(await rows()).toBe(rendersBefore + 1);

    // Shared: one of two clients leaves; the other still gets its poster.
    const leaving = new AbortController();
    const gone = fetch(`${app.url}/a/${video.id}?t=5.7&w=99`, { headers: bearer(owner), signal: leaving.signal }).catch(() => "aborted");
    const staying = get(video.id, "t=5.7&w=99");
    setTimeout(() => leaving.abort(), 50);
    expect(await gone).toBe("aborted");
    expect((await staying).status).toBe(200);
  });

  it("keeps a rotated phone video upright", async () => {
    const video = await put("video/portrait-rotate-90-360x640-3s.mp4", "video/mp4");
    const res = await get(video.id, "t=1&fmt=png");
    expect(await sharp(Buffer.from(await res.arrayBuffer())).metadata()).toMatchObject({ width: 360, height: 640 });
  });

  it("answers 422 for a truncated video's poster", async () => {
    const video = await put("video/truncated-50pct-no-moov.mp4", "video/mp4");
    const res = await get(video.id, "w=100");
    expect(res.status).toBe(422);
    expect((await json(res)).error.code).toBe("undecodable_media");
  });

  it("renders PDF page 2 at the requested width; out-of-range pages are 400, encrypted PDFs 422", async () => {
    const pdf = await put("documents/asymptote-asy-latex-11-pages.pdf", "application/pdf");
    const page = await get(pdf.id, "page=2&w=600&fmt=png");
    expect(page.status).toBe(200);
    const meta = await sharp(Buffer.from(await page.arrayBuffer())).metadata();
    expect(meta.width).toBe(600);
    expect(meta.height! / meta.width!).toBeCloseTo(841.89 / 595.276, 2);
    const outside = await get(pdf.id, "page=12&w=100");
    expect(outside.status).toBe(400);
    expect((await json(outside)).error).toMatchObject({ code: "invalid_parameter", parameter: "page" });
    expect((await get(pdf.id, "t=1")).status).toBe(400);
    const encrypted = await put("documents/encrypted-aes256-cad-7-pages.pdf", "application/pdf");
    const locked = await get(encrypted.id, "w=100");
    expect(locked.status).toBe(422);
    expect((await json(locked)).error.code).toBe("document_encrypted");
  });
});
