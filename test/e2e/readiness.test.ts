import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, startApp, type TestApp } from "../helpers/app.js";

/** /readyz tells anyone which components are up; only admins see why one is not. */

const embeddedOnly = BACKEND === "scale" ? "the scale backend has no local store directory" : undefined;
if (embeddedOnly) console.warn(`[readiness] skipping the failing-store case: ${embeddedOnly}`);

describe.skipIf(Boolean(embeddedOnly))("/readyz with a failing store", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it("tells anyone which component failed, and only admins why", async () => {
    const staging = join(app.dataDir, "store", ".staging");
    await rm(staging, { recursive: true, force: true });
    try {
      const anonymous = await fetch(`${app.url}/readyz`);
      expect(anonymous.status).toBe(503);
      const text = await anonymous.text();
      expect(JSON.parse(text)).toEqual({
        status: "unavailable", checks: { database: { ok: true }, store: { ok: false }, queue: { ok: true } },
      });
      expect(text).not.toContain("ENOENT");
      expect(text).not.toContain(app.dataDir);

      const user = await json(await fetch(`${app.url}/readyz`, { headers: bearer(await app.token("bob")) }));
      expect(user.checks.store).toEqual({ ok: false });

      const admin = await fetch(`${app.url}/readyz`, { headers: bearer(app.admin) });
      expect(admin.status).toBe(503);
      const detail = await json(admin);
      expect(detail.checks.store.ok).toBe(false);
      expect(detail.checks.store.error).toContain("ENOENT");
      expect(detail.checks.store.error).toContain(staging);
      expect(typeof detail.engine).toBe("string");
      // Each media tool says which it is.
      const names = detail.tools.map((tool: { name: string }) => tool.name);
      expect(names).toEqual(expect.arrayContaining(["ffprobe", "ffmpeg", "pdfjs-dist"]));
      for (const tool of detail.tools) expect(typeof tool.available).toBe("boolean");
    } finally {
      await mkdir(staging, { recursive: true });
    }
  });
});

