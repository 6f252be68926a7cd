import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/ports/logger.js";
import type { Repos } from "../../src/ports/repos.js";
import { createAssetService } from "../../src/services/assets.js";
import { startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * A delete that races the metadata job: the job moves the asset verified -> ready between
 * the delete's read and its compare-and-set. The timing cannot be caused from outside, so
 * the real repositories are wrapped to run the job's real transition at exactly that
 * moment (fault injection; everything else is the real database and store).
 */
describe("deleting while a job changes the asset", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({}, { api: true, worker: false });
  });
  afterAll(() => app.close());

  it("still deletes; purged, its content is collected", async () => {
    const owner = await app.token("rae");
    const created = (await upload(app, owner, fixture("formats/palette-trns-debian-logo-256x256.png"), { "content-type": "image/png" })).body;
    expect(created.status).toBe("verified");

    const real = app.runtime.repos;
    let raced = false;
    const repos: Repos = Object.create(real, {
      softDelete: {
        value: async (...args: Parameters<Repos["softDelete"]>) => {
          if (!raced) {
            raced = true;
            await real.assets.transition(created.id, { from: "verified", to: "ready", reason: "metadata extracted", at: Date.now(), meta: {} });
          }
          return real.softDelete(...args);
        },
      },
    });
    const service = createAssetService({ repos, clock: { now: Date.now }, logger: silentLogger });

    const rae = { sub: "rae", groups: [], admin: false };
    await service.remove(rae, created.id);
    expect(raced).toBe(true);
    expect((await real.assets.get(created.id))?.status).toBe("deleted");
    // In the trash the content is still held; purged, gc removes it.
    expect((await real.blobs.get(created.sha256))?.refcount).toBe(1);
    await service.remove(rae, created.id, { purge: true });
    expect((await app.runtime.gc.run()).blobs.removed).toBe(1);
    expect((await real.blobs.get(created.sha256))?.state).toBe("gone");
    expect((await app.storedObjects()).filter((key) => key.endsWith(created.sha256))).toEqual([]);
  });
});
