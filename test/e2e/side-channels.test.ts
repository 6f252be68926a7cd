import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * Deduplication must never tell one tenant what another stores or views (issue: side
 * channels across tenants): metrics behind a token, per-owner stats that only the caller's
 * own activity moves, cache detail for admins only.
 */

const PHOTO = "formats/lossy-freshflower-800x602.webp";
const METRICS_TOKEN = "scrape-only-4f8a1c9e2b7d";

describe(`side channels across tenants (${BACKEND})`, () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let alicesId: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_METRICS_TOKEN: METRICS_TOKEN });
    alice = await app.token("alice");
    bob = await app.token("bob");
    const mine = await upload(app, alice, fixture(PHOTO), { prefer: "wait=10" }, "?public=true&filename=flower.webp");
    expect(mine.status).toBe(201);
    alicesId = mine.body.id;
    // Bob stores the same bytes: one blob, shared by deduplication.
    const his = await upload(app, bob, fixture(PHOTO), { prefer: "wait=10" }, "?filename=same.webp");
    expect(his.status).toBe(201);
  });
  afterAll(() => app.close());

  it("answers /metrics only with the metrics token when ASSETD_METRICS_TOKEN is set", async () => {
    const without = await fetch(`${app.url}/metrics`);
    expect(without.status).toBe(401);
    expect((await json(without)).error.code).toBe("unauthorized");
    const wrong = await fetch(`${app.url}/metrics`, { headers: bearer(`${METRICS_TOKEN}x`) });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();
    // A user's or even an admin's JWT is not the scrape token.
    const jwt = await fetch(`${app.url}/metrics`, { headers: bearer(app.admin) });
    expect(jwt.status).toBe(401);
    await jwt.arrayBuffer();
    const scraped = await fetch(`${app.url}/metrics`, { headers: bearer(METRICS_TOKEN) });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("assetd_dedup_saved_bytes");
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it("keeps a user's /v1/stats still when another owner's variant of shared content is rendered", async () => {
    const { queues: _q, ...before } = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(bob) }));
    const rendered = await fetch(`${app.url}/a/${alicesId}?w=120`, { headers: bearer(alice) });
    expect(rendered.status).toBe(200);
    await rendered.arrayBuffer();
    const hit = await fetch(`${app.url}/a/${alicesId}?w=120`);
    expect(hit.status).toBe(200);
    await hit.arrayBuffer();
    const { queues: _q2, ...after } = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(bob) }));
    expect(after).toEqual(before);
    expect(after.scope).toBe("owner");
    expect(after.variants).toBeUndefined();
    expect(after.cache).toBeUndefined();
    // The service-wide figures stay for admins.
    const all = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(app.admin) }));
    expect(all.variants.count).toBeGreaterThanOrEqual(1);
    expect(all.cache.hits).toBeGreaterThanOrEqual(1);
  });

  it("shows X-Cache and Server-Timing to admins only", async () => {
    const first = await fetch(`${app.url}/a/${alicesId}?w=140`, { headers: bearer(alice) });
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    for (const headers of [{}, bearer(bob), bearer(alice)]) {
      const res = await fetch(`${app.url}/a/${alicesId}?w=140`, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-cache")).toBeNull();
      expect(res.headers.get("server-timing")).toBeNull();
      await res.arrayBuffer();
    }
    const admin = await fetch(`${app.url}/a/${alicesId}?w=140`, { headers: bearer(app.admin) });
    expect(admin.headers.get("x-cache")).toBe("HIT");
    expect(admin.headers.get("server-timing")).toBe("cache;desc=hit");
    await admin.arrayBuffer();
    const miss = await fetch(`${app.url}/a/${alicesId}?w=141`, { headers: bearer(app.admin) });
    expect(miss.headers.get("x-cache")).toBe("MISS");
    expect(miss.headers.get("server-timing")).toMatch(/^render;dur=/);
    await miss.arrayBuffer();
  });
});
