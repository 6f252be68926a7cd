import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUrl } from "../../src/client/sign.js";
import { bearer, json, settled, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
if (!hasFfmpeg) console.warn("[signed-urls] skipping the HLS case: Debian's ffmpeg is not installed");

const KEY = "current-signing-key-0123456789";
const OLD_KEY = "previous-signing-key-0123456789";

/** Signed, expiring delivery URLs over real HTTP (DESIGN §10 "Access"). */
describe("signed URLs", () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let privateId: string;
  const photo = fixture("formats/lossy-freshflower-800x602.webp");

  beforeAll(async () => {
    app = await startApp({ ASSETD_URL_SIGNING_KEY: `${KEY},${OLD_KEY}` });
    alice = await app.token("alice");
    bob = await app.token("bob");
    privateId = (await upload(app, alice, photo, {}, "?filename=private.webp")).body.id;
  });
  afterAll(() => app.close());

  const sign = (token: string, id: string, body: unknown) => fetch(`${app.url}/v1/assets/${id}/signed-url`, {
    method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
  });

  it("gives anyone the private original and the signed variant, and nothing else", async () => {
    const created = await sign(alice, privateId, { expiresIn: 120 });
    expect(created.status).toBe(201);
    const { url, expiresAt } = await json(created);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(110_000);
    expect(url.startsWith(`${app.url}/a/${privateId}?`)).toBe(true);

    const original = await fetch(url);
    expect(original.status).toBe(200);
    expect(sha256(new Uint8Array(await original.arrayBuffer()))).toBe(sha256(photo));
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(original.headers.get("cache-control")!)![1]);
    expect(maxAge).toBeGreaterThan(100);
    expect(maxAge).toBeLessThanOrEqual(120);

    const variantUrl = (await json(await sign(alice, privateId, { query: "w=40&fmt=png" }))).url;
    const variant = await fetch(variantUrl);
    expect(variant.status).toBe(200);
    expect(variant.headers.get("content-type")).toBe("image/png");
    expect(variant.headers.get("cache-control")).toMatch(/^private, max-age=(3600|35\d\d)$/);

    // Exactly that URL: another transform, or the same one unsigned, is not granted.
    const widened = new URL(variantUrl);
    widened.searchParams.set("w", "400");
    const tampered = await fetch(widened);
    expect(tampered.status).toBe(403);
    expect((await json(tampered)).error.code).toBe("signature_invalid");
    expect((await fetch(`${app.url}/a/${privateId}?w=40&fmt=png`)).status).toBe(404);
  });

  it("refuses expired and forged URLs before looking the asset up", async () => {
    const expired = await signUrl(`${app.url}/a/${privateId}`, { key: KEY, expiresAt: new Date(Date.now() - 5000) });
    const late = await fetch(expired);
    expect(late.status).toBe(403);
    expect((await json(late)).error.code).toBe("url_expired");
    // The same for an id that does not exist: the signature is checked first.
    const unknown = await signUrl(`${app.url}/a/01J00000000000000000000000?w=10`, { key: "not-our-key-at-all-0000" });
    const forged = await fetch(unknown);
    expect(forged.status).toBe(403);
    expect((await json(forged)).error.code).toBe("signature_invalid");
    const half = await fetch(`${app.url}/a/${privateId}?exp=${Math.floor(Date.now() / 1000) + 60}`);
    expect(half.status).toBe(403);
  });

  it("accepts URLs a backend signed with the client helper, under any configured key", async () => {
    for (const key of [KEY, OLD_KEY]) {
      const response = await fetch(await signUrl(`${app.url}/a/${privateId}?w=30`, { key, expiresIn: 60 }));
      expect(response.status, key).toBe(200);
      await response.arrayBuffer();
    }
  });

  it("signs only for callers who may read the asset, and checks the query", async () => {
    const refused = await sign(bob, privateId, {});
    expect(refused.status).toBe(404);
    const anonymous = await fetch(`${app.url}/v1/assets/${privateId}/signed-url`, { method: "POST" });
    expect(anonymous.status).toBe(404);
    for (const [body, parameter] of [[{ query: "w=0" }, "w"], [{ expiresIn: 604_801 }, "expiresIn"], [{ query: "sig=x" }, "query"]] as const) {
      const bad = await sign(alice, privateId, body);
      expect(bad.status).toBe(400);
      expect((await json(bad)).error.parameter).toBe(parameter);
    }
    await fetch(`${app.url}/v1/assets/${privateId}/acl`, {
      method: "POST", headers: { ...bearer(alice), "content-type": "application/json" }, body: JSON.stringify({ principal: "bob", permission: "read" }),
    });
    expect((await sign(bob, privateId, {})).status).toBe(201);
  });

  it.skipIf(!hasFfmpeg)("plays a private video from one signed master URL", async () => {
    const video = await settled(app, alice, (await upload(app, alice, fixture("video/portrait-rotate-90-360x640-3s.mp4"), { "content-type": "video/mp4" })).body.id, 30_000);
    const { url } = await json(await sign(alice, video.id, { hls: true, expiresIn: 600 }));
    const deadline = Date.now() + 120_000;
    let master = await fetch(url);
    while (master.status === 202 && Date.now() < deadline) {
      await master.arrayBuffer();
      await new Promise((r) => setTimeout(r, 300));
      master = await fetch(url);
    }
    expect(master.status).toBe(200);
    const text = await master.text();
    const rendition = text.split("\n").find((line) => line.includes("index.m3u8"))!;
    expect(rendition).toMatch(/^\/a\/[0-9A-Z]+\/hls\/\d+p\/index\.m3u8\?exp=\d+&sig=/);
    const playlist = await fetch(`${app.url}${rendition}`);
    expect(playlist.status).toBe(200);
    const rungText = await playlist.text();
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(rungText)![1]!;
    expect(init).toMatch(/\/init(_\d+)?\.mp4\?exp=\d+&sig=/);
    expect((await fetch(`${app.url}${init}`)).status).toBe(200);
    const segment = rungText.split("\n").find((line) => line.includes(".m4s"))!;
    expect(segment).toMatch(/\/seg_\d{5}\.m4s\?exp=\d+&sig=/);
    const bytes = await fetch(`${app.url}${segment}`);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get("content-type")).toBe("video/iso.segment");
    await bytes.arrayBuffer();
    // Unsigned, the same stream stays private.
    expect((await fetch(`${app.url}/a/${video.id}/hls/master.m3u8`)).status).toBe(404);
    const { stdout } = await promisify(execFile)("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url], { timeout: 60_000 });
    expect(Number(stdout.trim())).toBeCloseTo(3, 0);

    // The same ladder through a signed DASH manifest: every segment URL in it is signed.
    expect((await sign(alice, video.id, { hls: true, dash: true })).status).toBe(400);
    const dash = await json(await sign(alice, video.id, { dash: true, expiresIn: 600 }));
    expect(dash.url).toMatch(/\/a\/[0-9A-Z]+\/dash\/manifest\.mpd\?exp=\d+&sig=/);
    const mpd = await fetch(dash.url);
    expect(mpd.status).toBe(200);
    expect(mpd.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    const sources = [...(await mpd.text()).matchAll(/(?:sourceURL|media)="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
    expect(sources.length).toBeGreaterThan(1);
    for (const source of sources) {
      expect(source).toMatch(/^\/a\/[0-9A-Z]+\/hls\/\d+p\/(init(_\d+)?\.mp4|seg_\d{5}\.m4s)\?exp=\d+&sig=/);
      const res = await fetch(`${app.url}${source}`);
      expect(res.status, source).toBe(200);
      await res.arrayBuffer();
    }
    expect((await fetch(`${app.url}/a/${video.id}/dash/manifest.mpd`)).status).toBe(404);
    const probe = await promisify(execFile)("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", dash.url], { timeout: 60_000 });
    expect(Number(probe.stdout.trim())).toBeCloseTo(3, 0);
  });
});

describe("signed-only transforms", () => {
  let app: TestApp;
  let alice: string;
  let publicId: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_SIGNED_TRANSFORMS: "true" });
    alice = await app.token("alice");
    publicId = (await upload(app, alice, fixture("formats/lossy-freshflower-800x602.webp"), {}, "?public=true")).body.id;
  });
  afterAll(() => app.close());

  it("serves presets and the original to anyone, other transforms only signed or to the owner", async () => {
    expect((await fetch(`${app.url}/a/${publicId}`)).status).toBe(200);
    expect((await fetch(`${app.url}/a/${publicId}?preset=thumb`)).status).toBe(200);
    const refused = await fetch(`${app.url}/a/${publicId}?w=123`);
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe("signature_required");
    expect((await fetch(`${app.url}/a/${publicId}?w=123`, { headers: bearer(alice) })).status).toBe(200);
    const signed = (await json(await fetch(`${app.url}/v1/assets/${publicId}/signed-url`, {
      method: "POST", headers: { ...bearer(alice), "content-type": "application/json" }, body: JSON.stringify({ query: "w=123" }),
    }))).url;
    const response = await fetch(signed);
    expect(response.status).toBe(200);
    // A public asset stays publicly cacheable through a signed URL.
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });
});

describe("configured presets with signed-only transforms", () => {
  let app: TestApp;
  let alice: string;
  let publicId: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_SIGNED_TRANSFORMS: "true", ASSETD_PRESETS: JSON.stringify({ card: "w=40&h=30&fmt=png" }) });
    alice = await app.token("alice");
    publicId = (await upload(app, alice, fixture("formats/lossy-freshflower-800x602.webp"), {}, "?public=true")).body.id;
  });
  afterAll(() => app.close());

  it("allows exactly the site's presets to anyone, and lists them in manifests", async () => {
    const manifest = await json(await fetch(`${app.url}/v1/assets/${publicId}`));
    expect(Object.keys(manifest.urls).sort()).toEqual(["card", "original"]);
    const card = await fetch(manifest.urls.card);
    expect(card.status).toBe(200);
    expect(card.headers.get("content-type")).toBe("image/png");
    const { width, height } = await sharp(Buffer.from(await card.arrayBuffer())).metadata();
    expect([width, height]).toEqual([40, 30]);
    const unknown = await fetch(`${app.url}/a/${publicId}?preset=thumb`);
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error).toMatchObject({ code: "invalid_parameter", parameter: "preset" });
    expect((await fetch(`${app.url}/a/${publicId}?w=40&h=30&fmt=png`)).status).toBe(403);
  });
});
