import { execFileSync, spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { chromiumSkipReason, launchChromium } from "../helpers/browser.js";
import { fixture, fixturePath } from "../helpers/fixtures.js";

const skip = chromiumSkipReason("console");
const hasFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
if (!hasFfmpeg) console.warn("[console] skipping the video check: Debian's ffmpeg is not installed");

const PHOTO = "formats/lossy-freshflower-800x602.webp";
const PNG = "formats/alpha-debian-emblem-256x256.png";
const REFUSED = "hostile/really-html.png";
const PDF = "documents/asymptote-asy-latex-11-pages.pdf";

/**
 * The web console at / in real Chromium, against a real server: sign in with a token,
 * upload fixtures through the file input, browse them, play with transforms, read the
 * dashboard. Screenshots go to ASSETD_TEST_SHOTS (kept) or a temporary folder (removed).
 */
describe.skipIf(skip !== undefined)("the web console", () => {
  let app: TestApp;
  let browser: Browser;
  let tab: Page;
  let alice: string;
  let shots: string;
  let files: string;
  /** Script errors and console errors (CSP violations among them) seen by the main tab. */
  const errors: string[] = [];

  beforeAll(async () => {
    // The console is built by `npm run build` / `npm test`; a direct vitest run builds it here when missing or stale.
    execFileSync(process.execPath, ["scripts/ensure-built.mjs", "--console"], { stdio: "inherit" });
    app = await startApp();
    alice = await app.token("alice");
    browser = await launchChromium();
    shots = process.env.ASSETD_TEST_SHOTS ?? await mkdtemp(join(tmpdir(), "assetd-console-shots-"));
    await mkdir(shots, { recursive: true });
    files = await mkdtemp(join(tmpdir(), "assetd-console-files-"));
    // The same bytes under another name: the second upload is deduplicated.
    await copyFile(fixturePath(PHOTO), join(files, "flower-again.webp"));
    tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    tab.on("pageerror", (error) => errors.push(error.message));
    // Refusals the tests provoke (401, 415) are logged by Chromium as failed loads: those are expected.
    tab.on("console", (message) => { if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text()); });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (files) await rm(files, { recursive: true, force: true });
    if (shots && !process.env.ASSETD_TEST_SHOTS) await rm(shots, { recursive: true, force: true });
  });

  it("serves the console at / and its bundle as immutable files; other routes are untouched", async () => {
    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(script).toMatch(/^\/console\/assets\/[\w-]+\.js$/);
    const bundle = await fetch(`${app.url}${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(bundle.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(Number(bundle.headers.get("content-length"))).toBe((await bundle.arrayBuffer()).byteLength);
    for (const tricky of ["/console/assets/..%2f..%2fpackage.json", "/console/assets/%2e%2e/index.html", "/console/assets/.hidden", "/console/assets/nope.js"]) {
      expect((await fetch(`${app.url}${tricky}`)).status, tricky).toBe(404);
    }
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(alice) })).status).toBe(200);
    expect((await fetch(`${app.url}/a/01ARZ3NDEKTSV4RRFFQ69G5FAV`)).status).toBe(404);
  });

  it("signs in with a pasted token and refuses a bad one in words", async () => {
    await tab.goto(`${app.url}/`);
    await tab.getByLabel("API token").fill("not-a-token");
    await tab.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => tab.getByRole("alert").textContent()).toMatch(/Sign-in failed: .+/);
    // From the keyboard alone: focus the token field, type, Tab to the button, Enter.
    await tab.getByLabel("API token").fill("");
    await tab.getByLabel("API token").focus();
    await tab.keyboard.insertText(alice);
    await tab.keyboard.press("Tab");
    expect(await tab.evaluate(() => document.activeElement?.textContent)).toBe("Sign in");
    await tab.keyboard.press("Enter");
    await tab.getByRole("heading", { name: "Upload" }).waitFor();
    expect(await tab.locator(".who").textContent()).toBe("alice");
    expect(await tab.evaluate(() => sessionStorage.getItem("assetd.token"))).toBe(alice);
  });

  it("uploads files with progress to 100 %, tells new from deduplicated, and shows them in the gallery", async () => {
    await tab.locator("#file-input").setInputFiles([fixturePath(PHOTO), fixturePath(PNG)]);
    await tab.locator('.upload-item[data-state="done"]').nth(1).waitFor({ timeout: 20_000 });
    await tab.locator("#file-input").setInputFiles([join(files, "flower-again.webp")]);
    const again = tab.locator('.upload-item[data-name="flower-again.webp"]');
    await again.and(tab.locator('[data-state="done"]')).waitFor({ timeout: 20_000 });
    for (const name of ["lossy-freshflower-800x602.webp", "alpha-debian-emblem-256x256.png", "flower-again.webp"]) {
      const item = tab.locator(`.upload-item[data-name="${name}"]`);
      expect(await item.locator("progress").evaluate((p) => (p as HTMLProgressElement).value)).toBe(100);
      expect(await item.locator(".percent").textContent()).toBe("100 %");
    }
    expect(await again.locator(".outcome").textContent()).toMatch(/^deduplicated/);
    expect(await tab.locator('.upload-item[data-name="alpha-debian-emblem-256x256.png"] .outcome').textContent()).toMatch(/^new/);

    // The gallery lists all three, and their thumbnails load after the placeholder.
    await expect.poll(() => tab.locator(".grid .tile").count(), { timeout: 15_000 }).toBe(3);
    const names = await tab.locator(".grid .tile .name").allTextContents();
    expect(names.sort()).toEqual(["alpha-debian-emblem-256x256.png", "flower-again.webp", "lossy-freshflower-800x602.webp"]);
    await expect.poll(() => tab.locator(".grid .tile img.loaded").count(), { timeout: 20_000 }).toBe(3);
    const widths = await tab.locator(".grid .tile img").evaluateAll((images) => images.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(widths.every((w) => w > 0 && w <= 320)).toBe(true);
    await tab.screenshot({ path: join(shots, "library.png"), fullPage: true });
  });

  it("shows the API's refusal of a disguised file in words", async () => {
    const direct = await upload(app, alice, fixture(REFUSED), { "content-type": "image/png" }, "?filename=really-html.png");
    expect(direct.status).toBe(415);
    await tab.locator("#file-input").setInputFiles([fixturePath(REFUSED)]);
    const item = tab.locator('.upload-item[data-name="really-html.png"]');
    await item.and(tab.locator('[data-state="error"]')).waitFor({ timeout: 15_000 });
    expect(await item.locator(".outcome").textContent()).toBe(`Refused: ${direct.body.error.message}`);
    expect(direct.body.error.message.length).toBeGreaterThan(10);
  });

  it("opens an asset and renders the playground's width as the preview's natural width", async () => {
    await tab.locator('.grid .tile a[aria-label^="lossy-freshflower-800x602.webp"]').click();
    await tab.getByRole("heading", { name: "Transform playground" }).waitFor();
    const preview = tab.locator(".pg-preview img.loaded");
    await expect.poll(() => preview.evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 20_000 }).toBe(640);
    await tab.getByLabel("Width (w) value").fill("200");
    await expect.poll(() => tab.locator(".pg-preview img.loaded").evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 20_000 }).toBe(200);
    // 800×602 scaled to 200 wide is 150.5 high: the facts show what the browser decoded.
    const height = await tab.locator(".pg-preview img.loaded").evaluate((i) => (i as HTMLImageElement).naturalHeight);
    expect([150, 151]).toContain(height);
    expect(await tab.getByTestId("natural-size").textContent()).toBe(`200×${height}`);
    expect(await tab.locator("#pg-url").inputValue()).toBe(`${new URL(app.url).origin}/a/${await idOf("lossy-freshflower-800x602.webp")}?w=200&fmt=webp&q=80`);
    expect(await tab.locator("#pg-srcset").inputValue()).toMatch(/srcset=".*w=320.* 320w/s);
    // The render facts name the format the server sent.
    expect(await tab.getByTestId("render-facts").textContent()).toContain("image/webp");
    // Crop by coordinates: without a width the preview is exactly the rectangle.
    await tab.getByLabel("Crop (x,y,w,h in source pixels)").fill("100,100,300,200");
    await tab.getByLabel("Width (w) value").fill("");
    const size = () => tab.locator(".pg-preview img.loaded").evaluate((i) => `${(i as HTMLImageElement).naturalWidth}x${(i as HTMLImageElement).naturalHeight}`);
    await expect.poll(size, { timeout: 20_000 }).toBe("300x200");
    expect(decodeURIComponent(await tab.locator("#pg-url").inputValue())).toContain("crop=100,100,300,200");
    // History, tags (PATCH) and the variants the previews stored.
    expect(await tab.locator(".timeline li").count()).toBeGreaterThanOrEqual(2);
    await tab.getByLabel("Key", { exact: true }).fill("album");
    await tab.getByLabel("Value", { exact: true }).fill("spring");
    await tab.getByRole("button", { name: "Add tag" }).click();
    await tab.locator(".tags li", { hasText: "album=spring" }).waitFor();
    const manifest = await json(await fetch(`${app.url}/v1/assets/${await idOf("lossy-freshflower-800x602.webp")}`, { headers: bearer(alice) }));
    expect(manifest.tags).toEqual({ album: "spring" });
    await expect.poll(() => tab.locator(".variants tbody tr").count(), { timeout: 10_000 }).toBeGreaterThan(0);
    // A read grant for bob, made on the page, lets bob read the asset.
    const id = await idOf("lossy-freshflower-800x602.webp");
    const bob = await app.token("bob");
    expect((await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(bob) })).status).toBe(404);
    await tab.getByLabel("Principal").fill("bob");
    await tab.getByRole("button", { name: "Grant" }).click();
    await tab.locator(".tags li", { hasText: "bob: read" }).waitFor();
    expect((await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(bob) })).status).toBe(200);
    await tab.getByRole("button", { name: "Make URL" }).click();
    const signed = await tab.getByTestId("signed-url").textContent();
    expect((await fetch(signed!)).status).toBe(200);
    // Every control on the page has a name a screen reader can say.
    const unnamed = await tab.locator("input, select, textarea").evaluateAll((controls) => controls
      .filter((c) => !(c as HTMLInputElement).labels?.length && !c.getAttribute("aria-label"))
      .map((c) => c.outerHTML));
    expect(unnamed).toEqual([]);
    await tab.screenshot({ path: join(shots, "asset.png"), fullPage: true });
  });

  it("shows the same dedup savings as GET /v1/stats", async () => {
    await tab.getByRole("link", { name: "Dashboard" }).click();
    const figure = tab.getByTestId("dedup-saved");
    await figure.waitFor();
    const stats = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(alice) }));
    expect(stats.dedupSavedBytes).toBe(fixture(PHOTO).length);
    expect(Number(await figure.getAttribute("data-bytes"))).toBe(stats.dedupSavedBytes);
    await tab.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
  });

  it("takes a dropped PDF, filters by type, and pages through it with ?page=N", async () => {
    await tab.getByRole("link", { name: "Library" }).click();
    const bytes = fixture(PDF).toString("base64");
    await tab.getByTestId("dropzone").evaluate((zone, data) => {
      const file = new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], "manual.pdf", { type: "application/pdf" });
      const transfer = new DataTransfer();
      transfer.items.add(file);
      zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, bytes);
    const item = tab.locator('.upload-item[data-name="manual.pdf"]');
    await item.and(tab.locator('[data-state="done"]')).waitFor({ timeout: 20_000 });
    expect(await item.locator(".percent").textContent()).toBe("100 %");
    await expect.poll(() => tab.locator(".grid .tile").count(), { timeout: 15_000 }).toBe(4);

    await tab.getByLabel("Type").selectOption("document");
    await expect.poll(() => tab.locator(".grid .tile .name").allTextContents()).toEqual(["manual.pdf"]);
    await tab.getByLabel("Type").selectOption("");
    await tab.getByLabel("Search").fill("again");
    await tab.getByLabel("Search").press("Enter");
    await expect.poll(() => tab.locator(".grid .tile .name").allTextContents()).toEqual(["flower-again.webp"]);
    await tab.getByLabel("Search").fill("");
    await tab.getByLabel("Search").press("Enter");
    await expect.poll(() => tab.locator(".grid .tile").count()).toBe(4);

    const id = await idOf("manual.pdf");
    expect((await settled(app, alice, id, 30_000)).status).toBe("ready");
    await tab.goto(`${app.url}/#/asset/${id}`);
    const facts = tab.getByTestId("render-facts");
    await facts.waitFor({ timeout: 30_000 });
    const first = await facts.textContent();
    await tab.getByLabel("Page (of 11) value").fill("2");
    await expect.poll(() => tab.locator("#pg-url").inputValue()).toContain("page=2");
    await expect.poll(() => facts.textContent(), { timeout: 30_000 }).not.toBe(first);
    const second = await facts.textContent();
    await tab.getByRole("button", { name: "Next page →" }).click();
    await expect.poll(() => tab.locator("#pg-url").inputValue()).toContain("page=3");
    await expect.poll(() => facts.textContent(), { timeout: 30_000 }).not.toBe(second);
    expect(await tab.locator(".pg-preview img.loaded").evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(640);
    await tab.screenshot({ path: join(shots, "pdf.png"), fullPage: true });
  });

  it("fits a phone's width", async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(`${app.url}/`);
    await phone.evaluate((token) => sessionStorage.setItem("assetd.token", token), alice);
    await phone.reload();
    await expect.poll(() => phone.locator(".grid .tile img.loaded").count(), { timeout: 20_000 }).toBe(4);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(shots, "phone.png"), fullPage: true });
    await phone.close();
  });

  it.skipIf(!hasFfmpeg)("plays the HLS ladder once it is transcoded", async () => {
    const video = await upload(app, alice, fixture("video/h264-aac-1280x720-6s.mp4"), { "content-type": "video/mp4" }, "?filename=clip.mp4");
    expect(video.status).toBe(201);
    expect((await settled(app, alice, video.body.id, 60_000)).status).toBe("ready");
    await tab.goto(`${app.url}/#/asset/${video.body.id}`);
    const state = tab.getByTestId("video-state");
    await expect.poll(() => state.textContent(), { timeout: 180_000, interval: 1000 }).toBe("ready");
    const renditions = tab.getByLabel("Rendition");
    await renditions.waitFor({ timeout: 30_000 });
    expect(await renditions.locator("option").allTextContents()).toEqual(["auto", expect.stringMatching(/^720p/), expect.stringMatching(/^480p/), expect.stringMatching(/^360p/)]);
    const player = tab.locator("video.player");
    await player.evaluate((v) => (v as HTMLVideoElement).play());
    await expect.poll(() => player.evaluate((v) => (v as HTMLVideoElement).currentTime), { timeout: 30_000 }).toBeGreaterThan(1);
    // Pinning a rendition switches hls.js to it.
    await renditions.selectOption({ label: (await renditions.locator("option").nth(3).textContent())! });
    await expect.poll(() => player.evaluate((v) => (v as HTMLVideoElement).videoHeight), { timeout: 30_000 }).toBe(360);
    await tab.screenshot({ path: join(shots, "video.png") });
  }, 300_000);

  it("signs out: the token is forgotten and the sign-in form is back", async () => {
    await tab.getByRole("button", { name: "Sign out" }).click();
    await tab.getByLabel("API token").waitFor();
    expect(await tab.evaluate(() => sessionStorage.getItem("assetd.token"))).toBeNull();
    await tab.reload();
    await tab.getByLabel("API token").waitFor();
  });

  it("ran without script or policy errors", () => {
    expect(errors).toEqual([]);
  });

  async function idOf(filename: string): Promise<string> {
    const list = await json(await fetch(`${app.url}/v1/assets?q=${encodeURIComponent(filename)}`, { headers: bearer(alice) }));
    return list.items.find((a: { filename: string }) => a.filename === filename).id;
  }
});
