import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, metric, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** A 5472x3420 JPEG (18.7 MP), above the default 8 MP threshold of the intermediate ladder. */
async function largePhoto(): Promise<Buffer> {
  return sharp(fixture("photos/olympus-e-m1-kite-2560x1600.jpg")).resize({ width: 5472, height: 3420, fit: "fill" }).jpeg({ quality: 90 }).toBuffer();
}

async function get(app: TestApp, path: string, token?: string) {
  const res = await fetch(`${app.url}${path}`, { headers: token ? bearer(token) : {} });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

describe("the transformation graph", () => {
  let app: TestApp;
  let owner: string;
  let id: string;

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("gina");
    id = (await upload(app, owner, await largePhoto(), { "content-type": "image/jpeg", prefer: "wait=30" })).body.id;
  }, 120_000);
  afterAll(() => app?.close());

  it("renders a missing rung once, derives every small variant from it, and lists the edges", async () => {
    const before = { rungs: await metric(app, "assetd_intermediate_renders_total"), derived: await metric(app, "assetd_variant_renders_total", { source: "intermediate" }) };
    const first = await get(app, `/a/${id}?w=300&fmt=webp`, owner);
    expect(first.status).toBe(200);
    expect(await sharp(first.body).metadata()).toMatchObject({ format: "webp", width: 300, height: 188 });
    const second = await get(app, `/a/${id}?w=301`, owner);
    expect(second.status).toBe(200);
    expect(second.headers.get("content-type")).toBe("image/jpeg");
    // One rung (1024 px) for both; both rendered from it.
    expect(await metric(app, "assetd_intermediate_renders_total")).toBe(before.rungs + 1);
    expect(await metric(app, "assetd_variant_renders_total", { source: "intermediate" })).toBe(before.derived + 2);

    const listed = await json(await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(owner) }));
    const rung = listed.items.find((v: { recipe: string }) => v.recipe === "intermediate=1024");
    expect(rung).toMatchObject({ parent: null, contentType: "image/jpeg" });
    const derived = listed.items.filter((v: { parent: string | null }) => v.parent === rung.cacheKey).map((v: { recipe: string }) => v.recipe).sort();
    expect(derived).toEqual(["w=300&fmt=webp", "w=301"]);
    for (const item of listed.items) expect(Object.keys(item).sort()).toEqual(["cacheKey", "contentType", "hits", "lastAccessAt", "parent", "recipe", "size"]);
  });

  it("renders from the original what a rung would change, and large outputs", async () => {
    for (const query of ["w=300&strip=0", "w=300&sharpen=1", "w=300&h=300&pos=attention", "w=4000"]) {
      expect((await get(app, `/a/${id}?${query}`, owner)).status, query).toBe(200);
    }
    const listed = await json(await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(owner) }));
    for (const recipe of ["w=300&strip=0", "w=300&sharpen=1", "w=300&h=300&pos=attention", "w=4000"]) {
      expect(listed.items.find((v: { recipe: string }) => v.recipe === recipe), recipe).toMatchObject({ parent: null });
    }
  });

  it("shows the variants to the owner and admins only", async () => {
    expect((await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(app.admin) })).status).toBe(200);
    const stranger = await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(await app.token("mallory")) });
    expect(stranger.status).toBe(404);
    await fetch(`${app.url}/v1/assets/${id}`, { method: "PATCH", headers: { ...bearer(owner), "content-type": "application/json" }, body: JSON.stringify({ public: true }) });
    const reader = await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(await app.token("mallory")) });
    expect(reader.status).toBe(403);
    // Anonymous callers may read a public asset, not its variants.
    expect((await fetch(`${app.url}/v1/assets/${id}/variants`)).status).toBe(403);
  });
});

describe("with ASSETD_INTERMEDIATES=false", () => {
  it("renders every variant from the original", async () => {
    const app = await startApp({ ASSETD_INTERMEDIATES: "false" });
    try {
      const owner = await app.token("gina");
      const id = (await upload(app, owner, await largePhoto(), { "content-type": "image/jpeg", prefer: "wait=30" })).body.id;
      expect((await get(app, `/a/${id}?w=300`, owner)).status).toBe(200);
      const listed = await json(await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(owner) }));
      expect(listed.items.map((v: { recipe: string; parent: string | null }) => [v.recipe, v.parent])).toEqual([["w=300", null]]);
      expect(await metric(app, "assetd_intermediate_renders_total")).toBe(0);
    } finally {
      await app.close();
    }
  }, 120_000);
});
