import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { chromiumSkipReason, launchChromium } from "../helpers/browser.js";
import { fixture } from "../helpers/fixtures.js";

const skip = chromiumSkipReason("console-admin");
const MiB = 1024 * 1024;

/**
 * The console's admin view (#/admin) and the dashboard's live rates in real Chromium against
 * a real server: jobs by state, a quota set through the form, a token revoked through the
 * form, a gc dry run's report. Screenshots go to ASSETD_TEST_SHOTS (kept) or a temporary folder (removed).
 */
describe.skipIf(skip !== undefined)("the web console's admin view", () => {
  let app: TestApp;
  let browser: Browser;
  let shots: string;
  let assetId: string;
  const errors: string[] = [];

  const open = async (token: string, hash: string, width = 1200): Promise<Page> => {
    const tab = await browser.newPage({ viewport: { width, height: 900 } });
    tab.on("pageerror", (error) => errors.push(error.message));
    tab.on("console", (message) => { if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text()); });
    // Signed in already, as a tab that pasted the token earlier would be.
    await tab.addInitScript((t) => sessionStorage.setItem("assetd.token", t), token);
    await tab.goto(`${app.url}/${hash}`);
    return tab;
  };

  beforeAll(async () => {
    execFileSync(process.execPath, ["scripts/ensure-built.mjs", "--console"], { stdio: "inherit" });
    app = await startApp();
    browser = await launchChromium();
    shots = process.env.ASSETD_TEST_SHOTS ?? await mkdtemp(join(tmpdir(), "assetd-console-admin-shots-"));
    await mkdir(shots, { recursive: true });
    const owner = await app.token("dora");
    const created = await upload(app, owner, fixture("formats/lossy-freshflower-800x602.webp"), { "content-type": "image/webp" });
    expect(created.status).toBe(201);
    assetId = created.body.id;
    expect((await settled(app, owner, assetId)).status).toBe("ready");
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (shots && !process.env.ASSETD_TEST_SHOTS) await rm(shots, { recursive: true, force: true });
  });

  it("lists the jobs of an uploaded asset by state", async () => {
    const tab = await open(app.admin, "#/");
    await tab.getByRole("link", { name: "Admin" }).click();
    await tab.getByRole("heading", { name: "Jobs" }).waitFor();
    await tab.getByLabel("State").selectOption("done");
    const row = tab.locator('[data-testid="jobs"] tr', { hasText: assetId });
    await row.first().waitFor({ timeout: 10_000 });
    const api = await json(await fetch(`${app.url}/v1/admin/jobs?state=done`, { headers: bearer(app.admin) }));
    const job = api.items.find((j: { key: string }) => j.key === assetId);
    expect(job.state).toBe("done");
    const cells = await row.first().locator("td").allTextContents();
    expect(cells.slice(0, 4)).toEqual([job.name, assetId, "done", `${job.attempts}/${job.maxAttempts}`]);
    expect(await row.first().getByRole("button", { name: "Retry" }).count()).toBe(0);
    await tab.screenshot({ path: join(shots, "admin-jobs.png"), fullPage: true });
    await tab.close();
  }, 60_000);

  it("sets a quota through the form, and says why a bad one is refused", async () => {
    const tab = await open(app.admin, "#/admin");
    await tab.getByRole("heading", { name: "Quotas" }).waitFor();
    const form = tab.getByRole("form", { name: "Set a quota" });
    await form.getByLabel("Owner").fill("bob");
    await form.getByLabel("Limit").fill("abc");
    await form.getByRole("button", { name: "Save" }).click();
    expect(await form.getByRole("alert").textContent()).toBe("the limit must be a number, 0 or more");
    await form.getByLabel("Limit").fill("5");
    await form.getByLabel("Unit").selectOption("MiB");
    await form.getByRole("button", { name: "Save" }).press("Enter");
    await expect.poll(() => tab.getByRole("status").textContent()).toBe("Quota of bob saved.");
    const bob = await json(await fetch(`${app.url}/v1/admin/quotas/bob`, { headers: bearer(app.admin) }));
    expect(bob).toMatchObject({ owner: "bob", maxBytes: 5 * MiB, source: "owner" });
    await expect.poll(() => tab.locator('[data-testid="quotas"] tr[data-owner="bob"] .limit').textContent()).toBe("5.0 MiB");
    // Edited in its own row: 2 GiB.
    const row = tab.getByRole("form", { name: "Quota of bob" });
    await row.getByLabel("Limit for bob").fill("2");
    await row.getByLabel("Unit").selectOption("GiB");
    await row.getByRole("button", { name: "Save" }).click();
    await expect.poll(async () => (await json(await fetch(`${app.url}/v1/admin/quotas/bob`, { headers: bearer(app.admin) }))).maxBytes).toBe(2 * 1024 * MiB);
    await tab.close();
  }, 60_000);

  it("revokes a token through the form: it is refused from then on", async () => {
    const carol = await app.token("carol");
    expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(carol) })).status).toBe(200);
    const jti = (JSON.parse(Buffer.from(carol.split(".")[1]!, "base64url").toString()) as { jti: string }).jti;
    expect(jti).toBeTruthy();
    const tab = await open(app.admin, "#/admin");
    await tab.getByRole("heading", { name: "Tokens" }).waitFor();
    expect(await tab.getByText("assetd token --sub NAME").count()).toBe(1);
    await tab.getByLabel("Revoke by").selectOption("jti");
    await tab.getByLabel("Token id", { exact: true }).fill(jti);
    await tab.getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => tab.getByRole("status").textContent()).toBe(`Token ${jti} revoked.`);
    const refused = await fetch(`${app.url}/v1/assets`, { headers: bearer(carol) });
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.code).toBe("token_revoked");
    await tab.close();
  }, 60_000);

  it("runs a gc dry run and shows its report; at phone width the tables scroll inside their box", async () => {
    const tab = await open(app.admin, "#/admin", 390);
    await tab.getByRole("heading", { name: "Maintenance" }).waitFor();
    expect(await tab.getByRole("button", { name: "Run GC" }).isDisabled()).toBe(true);
    await tab.getByRole("button", { name: "GC dry run" }).click();
    const summary = tab.getByTestId("gc-summary");
    await summary.waitFor({ timeout: 20_000 });
    const direct = await json(await fetch(`${app.url}/v1/admin/gc`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: '{"dryRun":true}' }));
    expect(direct.dryRun).toBe(true);
    expect(Number(await tab.getByTestId("gc-found").textContent())).toBe(direct.found);
    expect(Number(await tab.getByTestId("gc-removed").textContent())).toBe(direct.removed);
    expect(Number(await tab.getByTestId("gc-bytes").getAttribute("data-bytes"))).toBe(direct.bytesCollected);
    expect(await tab.getByRole("button", { name: "Run GC" }).isDisabled()).toBe(false);
    await tab.getByRole("button", { name: "Run scrub" }).click();
    await expect.poll(() => tab.getByTestId("care-report").getAttribute("data-pass"), { timeout: 20_000 }).toBe("scrub");
    expect(await tab.locator("pre.json").textContent()).toMatch(/^\{/);
    // The page itself does not scroll sideways; the jobs and quotas tables scroll in their box.
    expect(await tab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await tab.screenshot({ path: join(shots, "admin-phone.png"), fullPage: true });
    await tab.close();
  }, 60_000);

  it("shows no Admin link to a non-admin", async () => {
    const tab = await open(await app.token("erin"), "#/admin");
    await tab.getByRole("heading", { name: "Upload" }).waitFor();
    expect(await tab.getByRole("link", { name: "Admin" }).count()).toBe(0);
    expect(await tab.getByRole("heading", { name: "Admin" }).count()).toBe(0);
    await tab.close();
  }, 30_000);

  it("shows renders/s with a sparkline on the dashboard after variant requests", async () => {
    const tab = await open(app.admin, "#/dashboard");
    await tab.getByRole("heading", { name: /^Dashboard/ }).waitFor();
    for (const w of [64, 96, 128, 160]) {
      const response = await fetch(`${app.url}/a/${assetId}?w=${w}`, { headers: bearer(app.admin) });
      expect(response.status).toBe(200);
    }
    await expect.poll(async () => Number(await tab.getByTestId("renders-rate").textContent()), { timeout: 30_000, interval: 1000 }).toBeGreaterThan(0);
    expect(await tab.getByTestId("renders-rate").textContent()).toMatch(/^\d+(\.\d+)?$/);
    expect(await tab.getByTestId("renders-spark").locator("polyline").count()).toBe(1);
    expect(await tab.getByTestId("requests-spark").count()).toBe(1);
    expect(await tab.getByTestId("interval-hit-ratio").textContent()).toMatch(/^(\d+\.\d %|–)$/);
    expect(await tab.getByTestId("queue-depths").count()).toBe(1);
    await tab.screenshot({ path: join(shots, "dashboard-rates.png"), fullPage: true });
    await tab.close();
    expect(errors).toEqual([]);
  }, 60_000);
});
