import { spawn } from "node:child_process";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, metric, startApp, upload, type TestApp } from "../helpers/app.js";
import { BIN } from "../helpers/process.js";

/** A photo-sized JPEG of its own content (a colour per `n`), so no two uploads share variants. */
const image = (n: number) => sharp({
  create: { width: 800, height: 600, channels: 3, background: { r: (n * 53) % 256, g: (n * 97) % 256, b: (n * 151) % 256 } },
}).jpeg().toBuffer();

async function get(app: TestApp, path: string, token: string) {
  const res = await fetch(`${app.url}${path}`, { headers: bearer(token) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

async function ready(app: TestApp, token: string, data: Buffer): Promise<string> {
  const res = await upload(app, token, data, { "content-type": "image/jpeg", prefer: "wait=30" });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status).toBe("ready");
  return res.body.id as string;
}

async function recipes(app: TestApp, id: string): Promise<string[]> {
  const listed = await json(await fetch(`${app.url}/v1/assets/${id}/variants`, { headers: bearer(app.admin) }));
  return listed.items.map((v: { recipe: string }) => v.recipe).sort();
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const prewarmJobsDone = (app: TestApp) => metric(app, "assetd_jobs_total", { name: "prewarm", outcome: "done" });

async function adminPrewarm(app: TestApp, token: string, body: unknown) {
  const res = await fetch(`${app.url}/v1/admin/prewarm`, {
    method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
}

describe("prewarm (ASSETD_PREWARM_TOP=1)", () => {
  let app: TestApp;
  let olga: string;
  let first: string;
  let second: string;
  let third: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_PREWARM_TOP: "1" });
    olga = await app.token("olga");
    first = await ready(app, olga, await image(1));
    second = await ready(app, olga, await image(2));
    for (const id of [first, second]) {
      for (let i = 0; i < 3; i++) expect((await get(app, `/a/${id}?w=300&fmt=webp`, olga)).status).toBe(200);
    }
    expect((await get(app, `/a/${first}?w=100`, olga)).status).toBe(200);
    // Request counts are written in batches (every few seconds): write this batch now.
    await app.runtime.delivery.flushHits();
  }, 120_000);
  afterAll(() => app?.close());

  it("renders the owner's most requested recipe for a new image before anyone asks, not the less requested one", async () => {
    const before = await prewarmJobsDone(app);
    third = await ready(app, olga, await image(3));
    await until("the prewarm job", async () => ((await prewarmJobsDone(app)) > before ? true : undefined));
    const have = await until("the prewarmed variant", async () => {
      const listed = await recipes(app, third);
      return listed.includes("w=300&fmt=webp") ? listed : undefined;
    });
    expect(have).toEqual(["w=300&fmt=webp"]);
    expect(await metric(app, "assetd_prewarm_rendered_total")).toBe(1);

    const res = await get(app, `/a/${third}?w=300&fmt=webp`, app.admin);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-cache")).toBe("HIT");
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(await sharp(res.body).metadata()).toMatchObject({ format: "webp", width: 300, height: 225 });
  }, 60_000);

  it("counts the prewarmed variant's later request, once, in /v1/stats and /metrics", async () => {
    await app.runtime.delivery.flushHits();
    const stats = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(app.admin) }));
    expect(stats.prewarm).toEqual({ variants: 1, requested: 1, hitShare: 1 });
    expect(await metric(app, "assetd_prewarm_requested_total")).toBe(1);

    expect((await get(app, `/a/${third}?w=300&fmt=webp`, olga)).headers.get("x-cache")).toBeNull();
    await app.runtime.delivery.flushHits();
    const again = await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(app.admin) }));
    expect(again.prewarm).toEqual({ variants: 1, requested: 1, hitShare: 1 });
    expect(await metric(app, "assetd_prewarm_requested_total")).toBe(1);
    // A user's own stats carry no service-wide figures.
    expect((await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(olga) }))).prewarm).toBeUndefined();
  });

  it("does not prewarm another owner's upload from the first owner's statistics", async () => {
    const before = await prewarmJobsDone(app);
    const otto = await ready(app, await app.token("otto"), await image(4));
    await until("the prewarm job", async () => ((await prewarmJobsDone(app)) > before ? true : undefined));
    // Give a wrongly queued render the time it would take.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await recipes(app, otto)).toEqual([]);
  }, 60_000);

  // The CLI runs in its own process against the same database: the embedded one shares the data directory.
  it.skipIf(BACKEND === "scale")("assetd prewarm --owner --dry-run prints the prediction for each of the owner's assets", async () => {
    const child = spawn(process.execPath, [BIN, "prewarm", "--owner", "olga", "--top", "2", "--dry-run"], {
      env: { ...process.env, ASSETD_DATA_DIR: app.dataDir, ASSETD_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once("close", resolve));
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ dryRun: true, top: 2, windowDays: 7, assets: 3, queued: 2 });
    expect(report.items.map((item: { assetId: string }) => item.assetId).sort()).toEqual([second, third].sort());
    expect(await recipes(app, second)).toEqual(["w=300&fmt=webp"]);
  }, 60_000);

  it("POST /v1/admin/prewarm: admins only, a dry run reports, a run for an owner queues what each asset lacks", async () => {
    const denied = await adminPrewarm(app, olga, { assetId: third });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("forbidden");
    expect((await adminPrewarm(app, app.admin, {})).status).toBe(400);
    expect((await adminPrewarm(app, app.admin, { owner: "olga", top: 99 })).body.error).toMatchObject({ code: "invalid_parameter" });
    expect((await adminPrewarm(app, app.admin, { assetId: "01J000000000000000000000ZZ" })).status).toBe(404);

    const dry = await adminPrewarm(app, app.admin, { assetId: third, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, top: 1, assets: 1, queued: 1 });
    expect(dry.body.items).toEqual([{ assetId: third, owner: "olga", kind: "image", queued: [{ recipe: "w=100", requests: 1 }], present: [], skipped: [] }]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await recipes(app, third)).toEqual(["w=300&fmt=webp"]);

    const run = await adminPrewarm(app, app.admin, { owner: "olga", top: 2 });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ dryRun: false, top: 2, assets: 3, queued: 2 });
    expect(run.body.items.map((item: { assetId: string }) => item.assetId).sort()).toEqual([second, third].sort());
    for (const id of [second, third]) {
      await until(`w=100 of ${id}`, async () => ((await recipes(app, id)).includes("w=100") ? true : undefined));
    }
    expect(await recipes(app, first)).toEqual(["w=100", "w=300&fmt=webp"]);
    expect(await metric(app, "assetd_prewarm_rendered_total")).toBe(3);
  }, 60_000);
});
