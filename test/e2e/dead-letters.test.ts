import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, settled, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * A job that cannot succeed ends in the dead-letter list, is visible to admins and can be
 * retried once the cause is fixed. The fault is real: the stored bytes go missing before
 * the worker runs (as after a disk loss), and re-uploading the same content repairs them.
 */
describe("dead letters", () => {
  let app: TestApp;
  let owner: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_JOB_MAX_ATTEMPTS: "2" }, { api: true, worker: false });
    owner = await app.token("dora");
  });
  afterAll(() => app.close());

  it("dead-letters a job whose bytes are gone, then retries it after a repair", async () => {
    const photo = fixture("photos/canon-eos-400d-storm-1920x1280.jpg");
    const created = await upload(app, owner, photo, { "content-type": "image/jpeg" });
    expect(created.body.status).toBe("verified");
    const blob = await app.runtime.repos.blobs.get(created.body.sha256);
    await app.runtime.store.delete(blob!.storageKey);
    app.runtime.startWorker();

    const deadline = Date.now() + 20_000;
    let dead: Array<{ id: string; name: string; attempts: number; lastError: string; payload: { assetId: string } }> = [];
    while (Date.now() < deadline) {
      dead = (await json(await fetch(`${app.url}/v1/admin/jobs?state=dead`, { headers: bearer(app.admin) }))).items;
      if (dead.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ name: "extract-metadata", attempts: 2, payload: { assetId: created.body.id } });
    expect(dead[0]!.lastError).toMatch(/no object at raw\//);
    expect((await json(await fetch(`${app.url}/v1/assets/${created.body.id}`, { headers: bearer(owner) }))).status).toBe("verified");
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('assetd_queue_depth{queue="extract-metadata",state="dead"} 1');

    // Only admins see or retry jobs.
    expect((await fetch(`${app.url}/v1/admin/jobs?state=dead`, { headers: bearer(owner) })).status).toBe(403);
    expect((await fetch(`${app.url}/v1/admin/jobs?state=dead`)).status).toBe(401);
    expect((await fetch(`${app.url}/v1/admin/jobs?state=lost`, { headers: bearer(app.admin) })).status).toBe(400);

    // The same content uploaded again restores the missing object.
    expect((await upload(app, owner, photo, { "content-type": "image/jpeg" })).status).toBe(201);
    const retried = await fetch(`${app.url}/v1/admin/jobs/${dead[0]!.id}/retry`, { method: "POST", headers: bearer(app.admin) });
    expect(retried.status).toBe(200);
    expect((await settled(app, owner, created.body.id)).status).toBe("ready");
    expect((await fetch(`${app.url}/v1/admin/jobs/${dead[0]!.id}/retry`, { method: "POST", headers: bearer(app.admin) })).status).toBe(404);
  });
});
