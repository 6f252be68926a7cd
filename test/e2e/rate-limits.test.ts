import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/main.js";
import { BACKEND, bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * Per-client limits (DESIGN §10 "Bounded cost"): requests per minute and render seconds
 * per minute, per principal or per IP when anonymous, answered with 429 rate_limited and
 * Retry-After. A second API runtime on the same configuration stands in for another process;
 * with ASSETD_TEST_BACKEND=scale both count in the same Redis.
 */

const PHOTO = "formats/lossy-freshflower-800x602.webp";

async function secondRuntime(app: TestApp): Promise<{ runtime: Runtime; url: string }> {
  const runtime = await createRuntime({ ...app.runtime.config, port: 0 }, { api: true, worker: false });
  return { runtime, url: (await runtime.listen()).replace("[::1]", "127.0.0.1") };
}

/** Limits count per clock minute: start a test early in one, so it cannot straddle two. */
async function freshMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 40_000) await new Promise((r) => setTimeout(r, 60_000 - into + 50));
}

async function expectRateLimited(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect((await json(res)).error.code).toBe("rate_limited");
}

describe(`request rate limits (${BACKEND})`, () => {
  let app: TestApp;
  let other: { runtime: Runtime; url: string };

  beforeAll(async () => {
    app = await startApp({ ASSETD_RATE_LIMIT: "5" });
    other = await secondRuntime(app);
  });
  afterAll(async () => {
    await other?.runtime.close();
    await app?.close();
  });

  it("answers a principal's 6th request in a minute with 429 rate_limited and Retry-After; another principal is unaffected", async () => {
    await freshMinute();
    const alice = await app.token("alice");
    for (let i = 0; i < 5; i++) expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(alice) })).status).toBe(200);
    await expectRateLimited(await fetch(`${app.url}/v1/assets`, { headers: bearer(alice) }));
    // Refused before its body is read, and for every route.
    await expectRateLimited(await fetch(`${app.url}/v1/assets`, { method: "POST", headers: bearer(alice), body: fixture(PHOTO) }));
    const bob = await app.token("bob");
    expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(bob) })).status).toBe(200);
    // Probes and the operator are never limited.
    for (let i = 0; i < 8; i++) expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(app.admin) })).status).toBe(200);
  });

  it("counts anonymous clients by IP address", async () => {
    await freshMinute();
    const missing = `${app.url}/a/00000000000000000000000000`;
    for (let i = 0; i < 5; i++) expect((await fetch(missing)).status).not.toBe(429);
    await expectRateLimited(await fetch(missing));
    expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(await app.token("carol")) })).status).toBe(200);
  });

  it("ignores X-Forwarded-For from peers that are not trusted proxies", async () => {
    await freshMinute();
    // The loopback peer already spent its minute above; a forged header does not buy more.
    const missing = `${app.url}/a/00000000000000000000000000`;
    await expectRateLimited(await fetch(missing, { headers: { "x-forwarded-for": "203.0.113.99" } }));
  });

  it("behind a trusted proxy (ASSETD_TRUST_PROXY), counts each forwarded client address on its own", async () => {
    const proxied = await startApp({ ASSETD_RATE_LIMIT: "5", ASSETD_TRUST_PROXY: "loopback" });
    try {
      await freshMinute();
      const missing = `${proxied.url}/a/00000000000000000000000000`;
      const from = (address: string) => fetch(missing, { headers: { "x-forwarded-for": address } });
      for (let i = 0; i < 5; i++) expect((await from("203.0.113.7")).status).not.toBe(429);
      await expectRateLimited(await from("203.0.113.7"));
      expect((await from("203.0.113.8")).status).toBe(404);
    } finally {
      await proxied.close();
    }
  });

  it.skipIf(BACKEND !== "scale")("holds one limit across processes sharing Redis", async () => {
    await freshMinute();
    const dave = await app.token("dave");
    for (let i = 0; i < 3; i++) expect((await fetch(`${app.url}/v1/assets`, { headers: bearer(dave) })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await fetch(`${other.url}/v1/assets`, { headers: bearer(dave) })).status).toBe(200);
    await expectRateLimited(await fetch(`${other.url}/v1/assets`, { headers: bearer(dave) }));
    await expectRateLimited(await fetch(`${app.url}/v1/assets`, { headers: bearer(dave) }));
  });
});

describe(`render budget (${BACKEND})`, () => {
  let app: TestApp;
  let other: { runtime: Runtime; url: string };
  let id: string;
  const variant = (base: string, query: string, headers: Record<string, string> = {}) => fetch(`${base}/a/${id}?${query}`, { headers });

  beforeAll(async () => {
    // A millisecond of render time a minute: any render spends it.
    app = await startApp({ ASSETD_RENDER_BUDGET: "0.001" });
    other = await secondRuntime(app);
    const owner = await app.token("olga");
    const uploaded = await upload(app, owner, fixture(PHOTO), { prefer: "wait=10" }, "?public=true&filename=flower.webp");
    expect(uploaded.status).toBe(201);
    id = uploaded.body.id;
  });
  afterAll(async () => {
    await other?.runtime.close();
    await app?.close();
  });

  it("refuses a client's next render once its minute's budget is spent, still serves its cache hits, and lets others render", async () => {
    await freshMinute();
    const first = await variant(app.url, "w=101");
    expect(first.status).toBe(200);
    const bytes = Buffer.from(await first.arrayBuffer());
    await expectRateLimited(await variant(app.url, "w=102"));
    // A hit renders nothing, so it costs nothing.
    const hit = await variant(app.url, "w=101");
    expect(hit.status).toBe(200);
    expect(Buffer.from(await hit.arrayBuffer())).toEqual(bytes);

    // Each principal has its own budget; anonymous callers share their IP's.
    const bob = await app.token("bob");
    const bobs = await variant(app.url, "w=103", bearer(bob));
    expect(bobs.status).toBe(200);
    await bobs.arrayBuffer();
    await expectRateLimited(await variant(app.url, "w=104", bearer(bob)));
    const carols = await variant(app.url, "w=104", bearer(await app.token("carol")));
    expect(carols.status).toBe(200);
    await carols.arrayBuffer();
    // What carol rendered is now a hit for everyone, anonymous included.
    expect((await variant(app.url, "w=104")).status).toBe(200);
    // Admins render unmetered.
    expect((await variant(app.url, "w=105", bearer(app.admin))).status).toBe(200);
  });

  it.skipIf(BACKEND !== "scale")("holds one budget across processes sharing Redis", async () => {
    await freshMinute();
    const erin = await app.token("erin");
    const spent = await variant(app.url, "w=201", bearer(erin));
    expect(spent.status).toBe(200);
    await spent.arrayBuffer();
    await expectRateLimited(await variant(other.url, "w=202", bearer(erin)));
  });
});
