import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUrl } from "../../src/client/sign.js";
import { bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { chromiumSkipReason, launchChromium } from "../helpers/browser.js";
import { fixture } from "../helpers/fixtures.js";

const skip = chromiumSkipReason("browser-signed");
const KEY = "browser-test-signing-key-0123456789";

/**
 * A private image embedded with a signed URL in a page served from another origin, rendered
 * by real Chromium: the signed `<img>` shows, tampered and expired ones are broken images,
 * and the browser saw the statuses the API documents.
 */
describe.skipIf(skip !== undefined)("signed URLs in a browser", () => {
  let app: TestApp;
  let page: Server;
  let pageUrl: string;
  let browser: Browser;
  let shots: string;
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    app = await startApp({ ASSETD_URL_SIGNING_KEY: KEY });
    const alice = await app.token("alice");
    const id = (await upload(app, alice, fixture("formats/lossy-freshflower-800x602.webp"), {}, "?filename=private.webp")).body.id;
    const created = await fetch(`${app.url}/v1/assets/${id}/signed-url`, {
      method: "POST", headers: { ...bearer(alice), "content-type": "application/json" }, body: JSON.stringify({ query: "w=400&fmt=png", expiresIn: 300 }),
    });
    urls.signed = (await json(created)).url;
    const tampered = new URL(urls.signed);
    tampered.searchParams.set("w", "401");
    urls.tampered = tampered.toString();
    urls.expired = await signUrl(`${app.url}/a/${id}?w=400&fmt=png`, { key: KEY, expiresAt: new Date(Date.now() - 60_000) });
    urls.unsigned = `${app.url}/a/${id}?w=400&fmt=png`;

    const html = `<!doctype html><html><body style="margin:0;background:#fff">
      ${Object.entries(urls).map(([name, src]) => `<img id="${name}" src="${src.replace(/&/g, "&amp;")}" style="display:block;width:400px;height:301px">`).join("\n")}
      </body></html>`;
    page = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(html));
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
    // Another origin than the API's: a different port (and `localhost` rather than 127.0.0.1).
    pageUrl = `http://localhost:${(page.address() as AddressInfo).port}/`;
    browser = await launchChromium();
    shots = await mkdtemp(join(tmpdir(), "assetd-shots-"));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => page?.close(resolve));
    await app?.close();
    if (shots) await rm(shots, { recursive: true, force: true });
  });

  it("shows the signed image and breaks the others, with the documented statuses", async () => {
    const tab = await browser.newPage({ viewport: { width: 400, height: 1204 } });
    // Chromium blocks a cross-origin JSON error body from reaching an <img> (ORB): such
    // requests end as failed, not as responses; either way they were made and not served.
    const seen = new Map<string, number | "blocked">();
    tab.on("response", (response) => seen.set(response.url(), response.status()));
    tab.on("requestfailed", (request) => { if (!seen.has(request.url())) seen.set(request.url(), "blocked"); });
    await tab.goto(pageUrl, { waitUntil: "load" });
    const widths = await tab.evaluate(() => Object.fromEntries(
      [...document.images].map((img) => [img.id, img.complete ? img.naturalWidth : -1]),
    ));
    expect(widths).toEqual({ signed: 400, tampered: 0, expired: 0, unsigned: 0 });
    expect(seen.get(urls.signed!)).toBe(200);
    for (const name of ["tampered", "expired", "unsigned"]) expect([403, 404, "blocked"]).toContain(seen.get(urls[name]!));
    // What the browser was answered, asked the same way from here.
    const answer = async (url: string) => {
      const response = await fetch(url, { headers: { origin: pageUrl.slice(0, -1), accept: "image/*" } });
      return [response.status, (await json(response)).error.code];
    };
    expect(await answer(urls.tampered!)).toEqual([403, "signature_invalid"]);
    expect(await answer(urls.expired!)).toEqual([403, "url_expired"]);
    expect(await answer(urls.unsigned!)).toEqual([404, "not_found"]);

    // The screenshot shows the picture where the signed image is, and nothing where the others are.
    const shot = join(shots, "page.png");
    await tab.screenshot({ path: shot });
    const { data, info } = await sharp(await readFile(shot)).raw().toBuffer({ resolveWithObject: true });
    const inkIn = (top: number, height: number) => {
      let ink = 0;
      for (let y = top; y < top + height; y++) {
        for (let x = 0; x < info.width; x++) {
          const i = (y * info.width + x) * info.channels;
          if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) ink++;
        }
      }
      return ink / (info.width * height);
    };
    expect(inkIn(0, 301)).toBeGreaterThan(0.3); // the flower
    // A broken image is at most a small icon in its corner.
    expect(inkIn(301 + 40, 301 - 80)).toBeLessThan(0.02);
    await tab.close();
  });
});
