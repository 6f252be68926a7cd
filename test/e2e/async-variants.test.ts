import { Socket } from "node:net";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, metric, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

const PHOTO = fixture("photos/olympus-e-m1-kite-2560x1600.jpg");

async function get(app: TestApp, path: string, token?: string) {
  const res = await fetch(`${app.url}${path}`, { headers: token ? bearer(token) : {} });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** Follows a 202's Location until the answer is something else (a client honouring Retry-After, faster). */
async function poll(app: TestApp, path: string, token: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await get(app, path, token);
    if (res.status !== 202) return res;
    if (Date.now() > deadline) throw new Error(`${path} still 202`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ready(app: TestApp, token: string, data: Buffer, query = "", headers: Record<string, string> = {}) {
  const res = await upload(app, token, data, { "content-type": "image/jpeg", prefer: "wait=30", ...headers }, query);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status).toBe("ready");
  return res.body.id as string;
}

describe("ASSETD_ASYNC_VARIANTS=true", () => {
  let app: TestApp;
  let sync: TestApp;
  let owner: string;
  let id: string;
  let syncId: string;

  beforeAll(async () => {
    // A small output limit makes one recipe fail in its job, for good.
    app = await startApp({ ASSETD_ASYNC_VARIANTS: "true", ASSETD_MAX_OUTPUT_PIXELS: "20000000" });
    sync = await startApp({ ASSETD_MAX_OUTPUT_PIXELS: "20000000" });
    owner = await app.token("nora");
    id = await ready(app, owner, PHOTO);
    syncId = await ready(sync, await sync.token("nora"), PHOTO);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await sync?.close();
  });

  it("answers a miss 202 with Retry-After and Location, then serves the job's render as a hit with a sync render's bytes", async () => {
    const path = `/a/${id}?w=300&fmt=webp`;
    const first = await get(app, path, owner);
    expect(first.status).toBe(202);
    expect(first.headers.get("retry-after")).toBe("1");
    expect(first.headers.get("location")).toBe(path);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(JSON.parse(first.body.toString())).toEqual({ status: "rendering", retryAfter: 1, location: path });

    const later = await poll(app, path, app.admin);
    expect(later.status).toBe(200);
    expect(later.headers.get("x-cache")).toBe("HIT");
    expect(later.headers.get("content-type")).toBe("image/webp");

    // The same content rendered on the request path of another instance: the same bytes.
    const rendered = await get(sync, `/a/${syncId}?w=300&fmt=webp`, sync.admin);
    expect(rendered.status).toBe(200);
    expect(rendered.headers.get("x-cache")).toBe("MISS");
    expect(later.body.equals(rendered.body)).toBe(true);
    expect(later.headers.get("etag")).toBe(rendered.headers.get("etag"));
    expect(await metric(app, "assetd_jobs_total", { name: "render-variant", outcome: "done" })).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("queues one render for concurrent misses of a recipe", async () => {
    const path = `/a/${id}?w=222`;
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(app, path, owner)));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(202));
    const done = await poll(app, path, owner);
    expect(done.status).toBe(200);
    expect(await sharp(done.body).metadata()).toMatchObject({ format: "jpeg", width: 222 });
    const rows = await json(await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(owner) }));
    expect(rows.items.filter((v: { recipe: string }) => v.recipe === "w=222")).toHaveLength(1);
  }, 60_000);

  it("answers the render's own error once its job failed, and dead-letters the job at once", async () => {
    const path = `/a/${id}?w=8000&enlarge=1`;
    // What the request path answers for it.
    const expected = await get(sync, `/a/${syncId}?w=8000&enlarge=1`, sync.admin);
    expect(expected.status).toBe(422);
    expect(JSON.parse(expected.body.toString()).error.code).toBe("output_too_large");

    expect((await get(app, path, owner)).status).toBe(202);
    const failed = await poll(app, path, owner);
    expect(failed.status).toBe(422);
    expect(JSON.parse(failed.body.toString()).error).toMatchObject({ code: "output_too_large" });
    // Asked again: the same answer, and no second job.
    expect((await get(app, path, owner)).status).toBe(422);
    const dead = (await json(await fetch(`${app.url}/v1/admin/jobs?state=dead`, { headers: bearer(app.admin) }))).items
      .filter((job: { name: string }) => job.name === "render-variant");
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ attempts: 1, payload: { assetId: id, query: "w=8000&enlarge=1" } });
    expect(dead[0].lastError).toContain("output_too_large");

    // gc forgets the kept error after its grace period (zero here): the recipe is tried again.
    // S3 dates objects to whole seconds (rounded up by some servers): let one pass.
    await new Promise((r) => setTimeout(r, 1100));
    const gc = await fetch(`${app.url}/v1/admin/gc`, { method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: "{}" });
    expect(gc.status).toBe(200);
    expect((await app.storedObjects()).filter((key) => key.endsWith(".failed"))).toEqual([]);
    expect((await get(app, path, owner)).status).toBe(202);
  }, 60_000);
});

describe("eager variants", () => {
  let app: TestApp;
  let owner: string;

  beforeAll(async () => {
    app = await startApp();
    owner = await app.token("ezra");
  }, 120_000);
  afterAll(() => app?.close());

  /** Eager renders run in jobs right after the asset is ready: wait for their rows. */
  async function rendered(id: string, recipes: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listed = await json(await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(owner) }));
      const have = new Set(listed.items.map((v: { recipe: string }) => v.recipe));
      if (recipes.every((r) => have.has(r))) return;
      if (Date.now() > deadline) throw new Error(`eager variants of ${id}: only ${[...have].join(", ")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("renders ?eager= recipes after the upload is ready, so the first request is a hit", async () => {
    const eager = encodeURIComponent(`${"w=300&fmt=webp"}|${"w=120&h=120"}`);
    const id = await ready(app, owner, PHOTO, `?eager=${eager}`);
    await rendered(id, ["w=300&fmt=webp", "w=120&h=120"]);
    const hits = await metric(app, "assetd_variant_requests_total", { result: "hit" });
    for (const query of ["w=300&fmt=webp", "w=120&h=120"]) {
      const res = await get(app, `/a/${id}?${query}`, app.admin);
      expect(res.status, query).toBe(200);
      expect(res.headers.get("x-cache"), query).toBe("HIT");
    }
    expect(await metric(app, "assetd_variant_requests_total", { result: "hit" })).toBe(hits + 2);
  }, 60_000);

  it("takes a JSON array in the multipart field eager", async () => {
    const form = new FormData();
    form.append("eager", JSON.stringify(["w=200&fmt=png", "preset=thumb"]));
    form.append("file", new Blob([PHOTO], { type: "image/jpeg" }), "kite.jpg");
    const res = await fetch(`${app.url}/v1/assets`, { method: "POST", body: form, headers: { ...bearer(owner), prefer: "wait=30" } });
    expect(res.status).toBe(201);
    const { id } = await json(res);
    await rendered(id, ["w=200&fmt=png"]);
    const first = await get(app, `/a/${id}?w=200&fmt=png`, app.admin);
    expect(first.headers.get("x-cache")).toBe("HIT");
    expect(await sharp(first.body).metadata()).toMatchObject({ format: "png", width: 200 });
    expect((await get(app, `/a/${id}?preset=thumb`, app.admin)).headers.get("x-cache")).toBe("HIT");
  }, 60_000);

  it("keeps the eager recipes through a virus scan", async () => {
    const clamd = process.env.ASSETD_TEST_CLAMD ?? "127.0.0.1:3310";
    const port = Number(clamd.slice(clamd.lastIndexOf(":") + 1));
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
      socket.once("error", () => resolve(false));
      socket.connect(port, clamd.slice(0, clamd.lastIndexOf(":")), () => (socket.destroy(), resolve(true)));
    });
    if (!reachable) return console.warn(`[eager] no clamd at ${clamd}: scan path not exercised`);
    const scanned = await startApp({ ASSETD_CLAMD: clamd });
    try {
      const token = await scanned.token("ezra");
      const res = await upload(scanned, token, PHOTO, { "content-type": "image/jpeg", prefer: "wait=30" }, `?eager=${encodeURIComponent("w=64")}`);
      expect(res.body.status).toBe("ready");
      const deadline = Date.now() + 30_000;
      while (!(await json(await fetch(`${scanned.url}/v1/assets/${res.body.id}/variants`, { headers: bearer(token) }))).items.length) {
        if (Date.now() > deadline) throw new Error("no eager variant after the scan");
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await get(scanned, `/a/${res.body.id}?w=64`, scanned.admin)).headers.get("x-cache")).toBe("HIT");
    } finally {
      await scanned.close();
    }
  }, 60_000);

  it("refuses a bad eager recipe with 400 before storing anything", async () => {
    const before = (await json(await fetch(`${app.url}/v1/assets`, { headers: bearer(owner) }))).items.length;
    for (const eager of ["w=abc", "w=300|zoom=2", "preset=nope"]) {
      const res = await upload(app, owner, PHOTO, { "content-type": "image/jpeg" }, `?eager=${encodeURIComponent(eager)}`);
      expect(res.status, eager).toBe(400);
      expect(res.body.error, eager).toMatchObject({ code: "invalid_parameter", parameter: "eager" });
    }
    const form = new FormData();
    form.append("eager", "w=300");
    form.append("file", new Blob([PHOTO], { type: "image/jpeg" }), "kite.jpg");
    const res = await fetch(`${app.url}/v1/assets`, { method: "POST", body: form, headers: bearer(owner) });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: "invalid_parameter", parameter: "eager" });
    expect((await json(await fetch(`${app.url}/v1/assets`, { headers: bearer(owner) }))).items.length).toBe(before);
  }, 60_000);
});
