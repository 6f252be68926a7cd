import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * The trash and the garbage collector as a user sees them (DESIGN §10 "Operations"):
 * DELETE moves to the trash, restore brings the asset back with its bytes, purge and gc
 * remove the content once nothing references it, and a dry run removes nothing.
 */

const PHOTO = "formats/lossy-freshflower-800x602.webp";
const OTHER = "formats/aqua-800x500.avif";

describe(`trash and gc (${BACKEND})`, () => {
  let app: TestApp;
  let alice: string;
  const post = (path: string, token: string, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method: "POST",
      headers: { ...bearer(token), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const rawObjects = async (sha: string) => (await app.storedObjects()).filter((key) => key.includes(sha));

  beforeAll(async () => {
    app = await startApp();
    alice = await app.token("alice");
  });
  afterAll(() => app?.close());

  it("DELETE moves to the trash; the owner lists it and restores it, bytes intact", async () => {
    const photo = fixture(PHOTO);
    const id = (await upload(app, alice, photo, { prefer: "wait=10" }, "?filename=flower.webp")).body.id as string;
    const status = (await json(await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(alice) }))).status;

    expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    expect((await fetch(`${app.url}/a/${id}`, { headers: bearer(alice) })).status).toBe(404);
    const trash = await json(await fetch(`${app.url}/v1/assets?status=deleted`, { headers: bearer(alice) }));
    expect(trash.items.map((item: { id: string }) => item.id)).toEqual([id]);
    const bob = await app.token("bob");
    expect((await json(await fetch(`${app.url}/v1/assets?status=deleted`, { headers: bearer(bob) }))).items).toEqual([]);
    expect((await post(`/v1/assets/${id}/restore`, bob)).status).toBe(404);

    // gc leaves trashed content alone: the trash still references it.
    const report = await json(await post("/v1/admin/gc", app.admin, {}));
    expect(report.blobs.removed).toBe(0);
    expect(await rawObjects(sha256(photo))).not.toEqual([]);

    const restored = await post(`/v1/assets/${id}/restore`, alice);
    expect(restored.status).toBe(200);
    expect((await json(restored)).status).toBe(status);
    const original = await fetch(`${app.url}/a/${id}`, { headers: bearer(alice) });
    expect(original.status).toBe(200);
    expect(sha256(Buffer.from(await original.arrayBuffer()))).toBe(sha256(photo));
    expect((await post(`/v1/assets/${id}/restore`, alice)).status).toBe(404);
  });

  it("purge then gc removes the content and its variants; a dry run only reports", async () => {
    const data = fixture(OTHER);
    const sha = sha256(data);
    const id = (await upload(app, alice, data, { prefer: "wait=10" }, "?filename=aqua.avif")).body.id as string;
    expect((await fetch(`${app.url}/a/${id}?w=100&fmt=png`, { headers: bearer(alice) })).status).toBe(200);
    expect((await fetch(`${app.url}/v1/assets/${id}?purge=true`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    expect((await post(`/v1/assets/${id}/restore`, alice)).status).toBe(404);
    expect((await post("/v1/admin/gc", alice, {})).status).toBe(403);

    const before = await app.storedObjects();
    const dry = await json(await post("/v1/admin/gc", app.admin, { dryRun: true }));
    expect(dry).toMatchObject({ dryRun: true });
    expect(dry.blobs.found).toBeGreaterThanOrEqual(1);
    expect(await app.storedObjects()).toEqual(before);

    const gcTotals = async () => (await json(await fetch(`${app.url}/v1/stats`, { headers: bearer(app.admin) }))).gc as { bytesCollected: number; objectsRemoved: number };
    const totalsBefore = await gcTotals();
    const report = await json(await post("/v1/admin/gc", app.admin, {}));
    expect(report.blobs.removed).toBeGreaterThanOrEqual(1);
    expect(report.variants.removed).toBeGreaterThanOrEqual(1);
    expect(report.bytesCollected).toBeGreaterThanOrEqual(data.length);
    // /v1/stats keeps what every pass gave back.
    expect(await gcTotals()).toEqual({
      bytesCollected: totalsBefore.bytesCollected + report.bytesCollected, objectsRemoved: totalsBefore.objectsRemoved + report.removed,
    });
    expect(await rawObjects(sha)).toEqual([]);
    // Idempotent: a second pass finds nothing more of it.
    expect((await json(await post("/v1/admin/gc", app.admin, {}))).blobs.removed).toBe(0);

    // The same bytes uploaded again are stored again and served exactly.
    const again = (await upload(app, alice, data, { prefer: "wait=10" }, "?filename=aqua.avif")).body.id as string;
    const served = await fetch(`${app.url}/a/${again}`, { headers: bearer(alice) });
    expect(sha256(Buffer.from(await served.arrayBuffer()))).toBe(sha);
  });
});
