import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/** A write that meets another process's lock on the SQLite file is told to retry, not a 500. */

const embeddedOnly = BACKEND === "scale" ? "the scale backend has no SQLite file" : undefined;
if (embeddedOnly) console.warn(`[sqlite-lock] skipping the SQLite lock case: ${embeddedOnly}`);

const photo = () => fixture("formats/lossy-freshflower-800x602.webp");

describe.skipIf(Boolean(embeddedOnly))("a locked SQLite database", () => {
  let app: TestApp;
  let alice: string;
  let id: string;

  beforeAll(async () => {
    // No worker: its own polling would also meet the lock, and nothing here needs it.
    app = await startApp({ ASSETD_SQLITE_BUSY_TIMEOUT_MS: "200" }, { api: true, worker: false });
    alice = await app.token("alice");
    id = (await upload(app, alice, photo(), { "content-type": "image/webp" })).body.id;
  });
  afterAll(() => app?.close());

  it("answers 503 overloaded with Retry-After while another process holds the write lock, then succeeds", async () => {
    const patch = () => fetch(`${app.url}/v1/assets/${id}`, {
      method: "PATCH", headers: { ...bearer(alice), "content-type": "application/json" }, body: JSON.stringify({ tags: { album: "lake" } }),
    });
    const other = new SqliteDatabase(join(app.dataDir, "assetd.db"));
    try {
      other.exec("BEGIN EXCLUSIVE");
      const locked = await patch();
      expect(locked.status).toBe(503);
      expect(locked.headers.get("retry-after")).toBe("1");
      expect((await json(locked)).error).toEqual({ code: "overloaded", message: "the database is busy; retry shortly", retryAfter: 1 });
      other.exec("COMMIT");
      const released = await patch();
      expect(released.status).toBe(200);
      expect((await json(released)).tags).toEqual({ album: "lake" });
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
    }
  });
});

