import { get as httpGet } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, metric, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

const photo = fixture("photos/olympus-e-m1-kite-2560x1600.jpg");

async function get(app: TestApp, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}${path}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

/** Bytes of every variant object in the store. */
async function storedVariantBytes(app: TestApp): Promise<number> {
  let total = 0;
  for await (const object of app.runtime.store.list("variants/")) total += object.size;
  return total;
}

describe("equal outputs share one recipe", () => {
  let app: TestApp;
  let id: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_MAX_RECIPES_PER_ASSET: "3" });
    const owner = await app.token("olga");
    id = (await upload(app, owner, photo, { "content-type": "image/jpeg", prefer: "wait=10" }, "?public=true")).body.id;
  });
  afterAll(() => app.close());

  // X-Cache is shown to admins only: these requests read it with the admin token.
  it("serves any width above the source's from the source width's cache key, counted once", async () => {
    const exact = await get(app, `/a/${id}?w=2560`, bearer(app.admin));
    expect(exact.status).toBe(200);
    expect(exact.headers.get("x-cache")).toBe("MISS");
    for (const w of [5000, 8000]) {
      const wider = await get(app, `/a/${id}?w=${w}`, bearer(app.admin));
      expect(wider.status).toBe(200);
      expect(wider.headers.get("x-cache")).toBe("HIT");
      expect(wider.headers.get("etag")).toBe(exact.headers.get("etag"));
    }
    const both = await get(app, `/a/${id}?w=6000&h=6000`, bearer(app.admin));
    expect(both.headers.get("etag")).toBe((await get(app, `/a/${id}?w=2560&h=1600`, bearer(app.admin))).headers.get("etag"));
    // Padding to a box is a different output: it keeps its own key.
    const padded = await get(app, `/a/${id}?w=3000&h=3000&fit=contain`, bearer(app.admin));
    expect(padded.headers.get("etag")).not.toBe(both.headers.get("etag"));
    const variants = await app.runtime.repos.variants.listByBlob(sha256(photo));
    expect(variants.map((v) => v.recipe).sort()).toEqual(["w=2560", "w=2560&h=1600", "w=3000&h=3000&fit=contain"]);
  });
});

describe("recipes per asset", () => {
  let app: TestApp;
  let owner: string;
  let id: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_MAX_RECIPES_PER_ASSET: "3" });
    owner = await app.token("olga");
    id = (await upload(app, owner, photo, { "content-type": "image/jpeg", prefer: "wait=10" }, "?public=true")).body.id;
  });
  afterAll(() => app.close());

  it("refuses a non-owner's new recipe beyond the cap with 429 recipe_limit; stored, preset, signed and owner requests still work", async () => {
    for (const w of [100, 200, 300]) expect((await get(app, `/a/${id}?w=${w}`)).status).toBe(200);
    const refused = await get(app, `/a/${id}?w=400`);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body.toString()).error.code).toBe("recipe_limit");
    expect(refused.headers.get("retry-after")).toBeNull();
    const bob = await app.token("bob");
    expect((await get(app, `/a/${id}?w=401`, bearer(bob))).status).toBe(429);

    const stored = await get(app, `/a/${id}?w=200`);
    expect(stored.status).toBe(200);
    // Served from the cache (X-Cache is for admins only): no fourth variant was rendered.
    expect((await app.runtime.repos.variants.listByBlob(sha256(photo))).map((v) => v.recipe).sort()).toEqual(["w=100", "w=200", "w=300"]);
    expect((await get(app, `/a/${id}?preset=thumb`)).status).toBe(200);
    expect((await get(app, `/a/${id}?w=500`, bearer(owner))).status).toBe(200);
    expect((await get(app, `/a/${id}?w=600`, bearer(app.admin))).status).toBe(200);
    const signed = await json(await fetch(`${app.url}/v1/assets/${id}/signed-url`, {
      method: "POST", headers: { ...bearer(owner), "content-type": "application/json" }, body: JSON.stringify({ query: "w=700" }),
    }));
    const viaSignature = await fetch(signed.url.replace(/^https?:\/\/[^/]+/, app.url));
    expect(viaSignature.status).toBe(200);
    await viaSignature.arrayBuffer();
  });
});

describe("the variant cache budget", () => {
  const budget = 200_000;
  let app: TestApp;
  let owner: string;
  let id: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_VARIANT_CACHE_BYTES: "200KB", ASSETD_SWEEP_INTERVAL: "0" });
    owner = await app.token("olga");
    id = (await upload(app, owner, photo, { "content-type": "image/jpeg", prefer: "wait=10" })).body.id;
  });
  afterAll(() => app.close());

  it("evicts least recently used variants down to the budget; an evicted one renders again", async () => {
    const widths = [800, 850, 900, 950, 1000, 1050, 1100, 1150, 1200];
    let rendered = 0;
    for (const w of widths) {
      const res = await get(app, `/a/${id}?w=${w}&q=90`, bearer(app.admin));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-cache")).toBe("MISS");
      rendered += res.body.length;
      // The first variant is used after every render: it stays the most recently used.
      expect((await get(app, `/a/${id}?w=800&q=90`, bearer(app.admin))).headers.get("x-cache")).toBe("HIT");
    }
    expect(rendered).toBeGreaterThan(2 * budget);

    // The renders that went over the budget started passes of their own; one more settles it.
    await app.runtime.variantCache.idle();
    const report = await app.runtime.variantCache.evict();
    expect(report.after).toBeLessThanOrEqual(budget);
    expect(await storedVariantBytes(app)).toBeLessThanOrEqual(budget);
    expect(await metric(app, "assetd_variant_evictions_total")).toBeGreaterThan(0);
    expect(await metric(app, "assetd_variant_evicted_bytes_total")).toBeGreaterThanOrEqual(rendered - budget);

    expect((await get(app, `/a/${id}?w=800&q=90`, bearer(app.admin))).headers.get("x-cache")).toBe("HIT");
    const evicted = await get(app, `/a/${id}?w=850&q=90`, bearer(app.admin));
    expect(evicted.status).toBe(200);
    expect(evicted.headers.get("x-cache")).toBe("MISS");
    expect((await get(app, `/a/${id}?w=850&q=90`, bearer(app.admin))).headers.get("x-cache")).toBe("HIT");
  });
});

describe("large cached variants", () => {
  let app: TestApp;
  let owner: string;
  let id: string;
  const query = "w=4096&enlarge=1&fmt=png";

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("olga");
    id = (await upload(app, owner, photo, { "content-type": "image/jpeg", prefer: "wait=10" }, "?public=true")).body.id;
  });
  afterAll(() => app.close());

  it("stream from the store with Range, so 20 slow readers do not hold 20 copies in memory", async () => {
    const full = await get(app, `/a/${id}?${query}`);
    expect(full.status).toBe(200);
    expect(full.body.length).toBeGreaterThan(8 * 1024 * 1024);
    const size = full.body.length;

    const partial = await get(app, `/a/${id}?${query}`, { range: "bytes=1000000-1999999", ...bearer(app.admin) });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("x-cache")).toBe("HIT");
    expect(partial.headers.get("content-range")).toBe(`bytes 1000000-1999999/${size}`);
    expect(partial.body.equals(full.body.subarray(1_000_000, 2_000_000))).toBe(true);

    // Readers that take the headers and then stop reading.
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const sockets: Array<import("node:http").ClientRequest> = [];
    const url = new URL(`${app.url}/a/${id}?${query}`);
    const heads = await Promise.all(Array.from({ length: 20 }, () => new Promise<number>((resolve, reject) => {
      const request = httpGet(url, (res) => {
        res.pause();
        resolve(res.statusCode ?? 0);
      });
      request.on("error", reject);
      sockets.push(request);
    })));
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(sampler);
    for (const request of sockets) request.destroy();
    expect(heads.every((status) => status === 200)).toBe(true);
    const growth = peak - before;
    // Loading the variant per reader grows by 20 x size (over 200 MB here).
    expect(growth).toBeLessThan(Math.min(150 * 1024 * 1024, 10 * size));
  });
});
