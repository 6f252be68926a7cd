import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.js";
import { bearer, json, startApp, type TestApp } from "../helpers/app.js";
import { chromiumSkipReason, launchChromium } from "../helpers/browser.js";
import { BIN } from "../helpers/process.js";

const skipBrowser = chromiumSkipReason("login-link");

async function mint(app: TestApp, token: string, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${app.url}/v1/admin/login-codes`, {
    method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
  });
}

async function redeem(app: TestApp, code: string): Promise<Response> {
  return fetch(`${app.url}/v1/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }),
  });
}

/** One-time console sign-in links over real HTTP: minted by an admin, redeemed once, stored hashed. */
describe("one-time sign-in links", () => {
  let app: TestApp;
  let database: DatabaseHandle;
  beforeAll(async () => {
    app = await startApp();
    // A second connection of our own, as another process would have.
    database = await openDatabase(app.runtime.config.databaseUrl);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await app?.close();
  });

  it("mints a 10-minute code with its link in the fragment; redeeming it gives a working 12-hour token for the same sub", async () => {
    const before = Date.now();
    const minted = await mint(app, app.admin);
    expect(minted.status).toBe(201);
    expect(minted.headers.get("cache-control")).toBe("no-store");
    const { url, code, expiresAt } = await json(minted);
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url).toBe(`${app.url}/#login=${code}`);
    const expires = Date.parse(expiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(10 * 60_000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(10 * 60_000 + 5000);

    const redeemed = await redeem(app, code);
    expect(redeemed.status).toBe(200);
    expect(redeemed.headers.get("cache-control")).toBe("no-store");
    const session = await json(redeemed);
    expect(session.sub).toBe("admin");
    const ttl = Date.parse(session.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(12 * 3600_000);
    expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(session.token) })).status).toBe(200);
    // Same principal, same role: the admin's session is an admin's.
    expect((await fetch(`${app.url}/v1/admin/quotas`, { headers: bearer(session.token) })).status).toBe(200);
    const payload = JSON.parse(Buffer.from(session.token.split(".")[1], "base64url").toString());
    expect(payload).toMatchObject({ sub: "admin", role: "admin" });
    expect(payload.exp - payload.iat).toBe(12 * 3600);

    // Once only.
    const again = await redeem(app, code);
    expect(again.status).toBe(401);
    expect((await json(again)).error.code).toBe("login_code_invalid");
  });

  it("mints for another principal, who signs in as themselves and not as an admin", async () => {
    const { code } = await json(await mint(app, app.admin, { sub: "alice" }));
    const session = await json(await redeem(app, code));
    expect(session.sub).toBe("alice");
    expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(session.token) })).status).toBe(200);
    expect((await fetch(`${app.url}/v1/admin/quotas`, { headers: bearer(session.token) })).status).toBe(403);
  });

  it("answers unknown, used and expired codes the same: 401 login_code_invalid", async () => {
    const { code: used } = await json(await mint(app, app.admin));
    expect((await redeem(app, used)).status).toBe(200);
    const { code: expired } = await json(await mint(app, app.admin));
    const hash = createHash("sha256").update(expired).digest("hex");
    await database.db.updateTable("login_code").set({ expires_at: Date.now() - 1 }).where("code_hash", "=", hash).execute();
    const answers = [];
    for (const code of [used, expired, "A".repeat(43), ""]) {
      const response = await redeem(app, code);
      answers.push({ status: response.status, body: await json(response) });
    }
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe("login_code_invalid");
      expect(answer.body).toEqual(answers[0]!.body);
    }
  });

  it("refuses minting to a non-admin (403) and to the anonymous (401)", async () => {
    const alice = await app.token("alice");
    const refused = await mint(app, alice);
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe("forbidden");
    const anonymous = await fetch(`${app.url}/v1/admin/login-codes`, { method: "POST" });
    expect(anonymous.status).toBe(401);
  });

  it("lets exactly one of concurrent redeems of one code through", async () => {
    const { code } = await json(await mint(app, app.admin));
    const responses = await Promise.all(Array.from({ length: 8 }, () => redeem(app, code)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
  });

  it("stores only the code's SHA-256", async () => {
    const { code } = await json(await mint(app, app.admin, { sub: "bob" }));
    const rows = await database.db.selectFrom("login_code").selectAll().execute();
    const row = rows.find((r) => r.sub === "bob");
    expect(row).toBeDefined();
    expect(row!.code_hash).toBe(createHash("sha256").update(code).digest("hex"));
    expect(JSON.stringify(rows)).not.toContain(code);
    expect(row!.used_at).toBeNull();
  });
});

/** Guessing codes is bounded by the per-client limit like any anonymous request. */
describe("sign-in under the rate limit", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ ASSETD_RATE_LIMIT: "5" });
  }, 60_000);
  afterAll(() => app?.close());

  it("answers 429 rate_limited with Retry-After once a client has tried too many codes", async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await redeem(app, `guess-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const limited = await redeem(app, "guess-again");
    expect(limited.status).toBe(429);
    expect((await json(limited)).error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

/** `assetd login-link` as an operator runs it (the built CLI), with the server's configuration. */
describe("assetd login-link", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  }, 60_000);
  afterAll(() => app?.close());

  const run = (args: string[]) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ASSETD_")));
    return spawnSync(process.execPath, [BIN, "login-link", ...args], {
      encoding: "utf8",
      env: { ...env, ASSETD_DATA_DIR: app.dataDir, ASSETD_DATABASE_URL: app.runtime.config.databaseUrl, ASSETD_PUBLIC_URL: app.url },
    });
  };

  it("prints a fresh link the running server redeems once, for the admin or for --sub", async () => {
    for (const [args, sub, admin] of [[[], "admin", true], [["--sub", "carol"], "carol", false]] as const) {
      const result = run([...args]);
      expect(result.status, result.stderr).toBe(0);
      const link = result.stdout.trim();
      expect(link).toMatch(new RegExp(`^${app.url.replace(/[.]/g, "\\.")}/#login=[A-Za-z0-9_-]{43}$`));
      expect(result.stderr).toContain(`one-time sign-in link for ${sub}, valid 10 minutes`);
      const code = link.slice(link.indexOf("#login=") + "#login=".length);
      const session = await json(await redeem(app, code));
      expect(session.sub).toBe(sub);
      expect((await fetch(`${app.url}/v1/admin/quotas`, { headers: bearer(session.token) })).status).toBe(admin ? 200 : 403);
      expect((await redeem(app, code)).status).toBe(401);
    }
  });
});

/** The console in real Chromium: the link signs in, leaves the address bar, and a second use is refused in words. */
describe.skipIf(skipBrowser !== undefined)("signing in to the console with a link", () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    execFileSync(process.execPath, ["scripts/ensure-built.mjs", "--console"], { stdio: "inherit" });
    app = await startApp();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("signs in from the link, drops the code from the URL, and refuses the link a second time", async () => {
    const { url, code } = await json(await mint(app, app.admin, { sub: "alice" }));
    const tab = await browser.newPage();
    await tab.goto(url);
    await tab.getByRole("heading", { name: "Upload" }).waitFor();
    expect(await tab.locator(".who").textContent()).toBe("alice");
    expect(tab.url()).toBe(`${app.url}/#/`);
    expect(tab.url()).not.toContain(code);
    const token = await tab.evaluate(() => sessionStorage.getItem("assetd.token"));
    expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(token!) })).status).toBe(200);
    await tab.close();

    const second = await browser.newPage();
    await second.goto(url);
    await expect.poll(() => second.getByRole("alert").textContent()).toMatch(/sign-in link was refused: it has expired or has already been used/);
    expect(second.url()).not.toContain(code);
    // The paste sign-in is still there.
    await second.getByLabel("API token").waitFor();
    expect(await second.evaluate(() => sessionStorage.getItem("assetd.token"))).toBeNull();
    await second.close();
  });
});
