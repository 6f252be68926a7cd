import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { chromiumSkipReason, launchChromium } from "../helpers/browser.js";
import { fixture } from "../helpers/fixtures.js";

const skip = chromiumSkipReason("console-data");

/**
 * The web console with more going on than console.test.ts sets up, in real Chromium: an
 * admin's dashboard with a dead letter retried from the page, a large file sent over tus,
 * and a gallery longer than one page.
 */
describe.skipIf(skip !== undefined)("the web console with more data", () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    execFileSync(process.execPath, ["scripts/ensure-built.mjs", "--console"], { stdio: "inherit" });
    app = await startApp({ ASSETD_JOB_MAX_ATTEMPTS: "2" }, { api: true, worker: false });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("lists a dead job and retries it", async () => {
    const owner = await app.token("dora");
    const photo = fixture("photos/canon-eos-400d-storm-1920x1280.jpg");
    const created = await upload(app, owner, photo, { "content-type": "image/jpeg" });
    expect(created.headers.get("asset-deduplicated")).toBe("false");
    // The stored bytes go missing before the worker runs: its metadata job dies.
    const blob = await app.runtime.repos.blobs.get(created.body.sha256);
    await app.runtime.store.delete(blob!.storageKey);
    app.runtime.startWorker();
    await expect.poll(async () => (await json(await fetch(`${app.url}/v1/admin/jobs?state=dead`, { headers: bearer(app.admin) }))).items.length,
      { timeout: 20_000 }).toBe(1);

    const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // Signed in already, as a tab that pasted the token earlier would be.
    await tab.addInitScript((token) => sessionStorage.setItem("assetd.token", token), app.admin);
    await tab.goto(`${app.url}/#/dashboard`);
    await tab.getByRole("heading", { name: "Dead letters" }).waitFor();
    const stats = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(app.admin) }));
    expect(await tab.getByTestId("hit-ratio").textContent()).toBe(`${(stats.cache.hitRatio * 100).toFixed(1)} %`);
    expect(Number(await tab.getByTestId("dedup-saved").getAttribute("data-bytes"))).toBe(stats.dedupSavedBytes);
    const row = tab.locator("tr", { hasText: "extract-metadata" }).filter({ has: tab.getByRole("button", { name: "Retry" }) });
    expect(await row.textContent()).toMatch(/no object at raw\//);

    // Repaired by uploading the same bytes again, then retried from the page.
    const again = await upload(app, owner, photo, { "content-type": "image/jpeg" });
    expect(again.status).toBe(201);
    expect(again.headers.get("asset-deduplicated")).toBe("true");
    await row.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => tab.getByRole("status").textContent(), { timeout: 10_000 }).toMatch(/queued again/);
    expect((await settled(app, owner, created.body.id)).status).toBe("ready");
    await expect.poll(() => tab.locator("tr", { hasText: "extract-metadata" }).filter({ has: tab.getByRole("button", { name: "Retry" }) }).count()).toBe(0);
    await tab.close();
  }, 120_000);

  it("sends a large file resumably over tus, with progress to 100 %", async () => {
    const owner = await app.token("kim");
    const dir = await mkdtemp(join(tmpdir(), "assetd-console-big-"));
    const big = join(dir, "noise.png");
    // Noise does not compress: a PNG past the 8 MiB line where the console switches to tus.
    await sharp({ create: { width: 1800, height: 1800, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 60 } } }).png().toFile(big);
    const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const tusRequests: string[] = [];
    tab.on("request", (request) => { if (new URL(request.url()).pathname.startsWith("/v1/tus")) tusRequests.push(request.method()); });
    await tab.addInitScript((token) => sessionStorage.setItem("assetd.token", token), owner);
    await tab.goto(`${app.url}/`);
    await tab.locator("#file-input").setInputFiles([big]);
    const item = tab.locator('.upload-item[data-name="noise.png"]');
    await item.and(tab.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
    expect(await item.locator(".percent").textContent()).toBe("100 %");
    expect(await item.locator(".outcome").textContent()).toMatch(/^stored \(resumable\)/);
    expect(tusRequests).toContain("POST");
    expect(tusRequests).toContain("PATCH");
    const list = await json(await fetch(`${app.url}/v1/assets`, { headers: bearer(owner) }));
    expect(list.items.map((a: { filename: string; size: number }) => [a.filename, a.size])).toEqual([["noise.png", (await readFile(big)).length]]);
    expect((await readFile(big)).length).toBeGreaterThan(8 * 1024 * 1024);
    await tab.close();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it("loads the next page of the gallery as its end scrolls into view", async () => {
    const owner = await app.token("ivy");
    const icon = fixture("formats/palette-trns-debian-logo-256x256.png");
    for (let i = 0; i < 30; i++) {
      expect((await upload(app, owner, icon, { "content-type": "image/png" }, `?filename=icon-${String(i).padStart(2, "0")}.png`)).status).toBe(201);
    }
    const tab = await browser.newPage({ viewport: { width: 1200, height: 500 } });
    await tab.addInitScript((token) => sessionStorage.setItem("assetd.token", token), owner);
    await tab.goto(`${app.url}/`);
    // One page (24) first, newest first; the rest once the end of the grid is reached.
    await expect.poll(() => tab.locator(".grid .tile").count(), { timeout: 15_000 }).toBe(24);
    expect(await tab.locator(".grid .tile .name").first().textContent()).toBe("icon-29.png");
    await tab.locator(".sentinel").scrollIntoViewIfNeeded();
    await expect.poll(() => tab.locator(".grid .tile").count(), { timeout: 15_000 }).toBe(30);
    const names = await tab.locator(".grid .tile .name").allTextContents();
    expect(new Set(names).size).toBe(30);
    expect(names.at(-1)).toBe("icon-00.png");
    await tab.close();
  }, 120_000);
});
