import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createRepos } from "../../src/db/repos.js";
import { createTestDatabase, type TestDatabase } from "./databases.js";

const run = promisify(execFile);
const child = fileURLToPath(new URL("./fixtures/ingest-child.ts", import.meta.url));
const migrateChild = fileURLToPath(new URL("./fixtures/migrate-child.ts", import.meta.url));

/**
 * Several processes on one SQLite file (an `assetd serve` next to `assetd worker`s): WAL
 * lets them read side by side, the busy timeout queues their writers, and BEGIN IMMEDIATE
 * keeps read-then-write transactions from failing with SQLITE_BUSY_SNAPSHOT.
 */
describe("SQLite shared by several processes", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("counts every reference when 4 processes ingest the same content at once", async () => {
    const sha256 = createHash("sha256").update("multi-process").digest("hex");
    const processes = 4;
    const perProcess = 25;
    await Promise.all(
      Array.from({ length: processes }, () =>
        run(process.execPath, ["--import", "tsx", child, database.url, sha256, String(perProcess)], { timeout: 60_000 }),
      ),
    );
    const repos = createRepos(database.handle.db, database.handle.dialect);
    expect((await repos.blobs.get(sha256))?.refcount).toBe(processes * perProcess);
    const owners = await database.handle.db.selectFrom("asset").select("owner").distinct().execute();
    expect(owners).toHaveLength(processes);
    expect(await database.handle.db.selectFrom("asset_event").select("id").execute()).toHaveLength(processes * perProcess);
  });

  it("migrates once when several processes start on a new file at the same time", async () => {
    const dir = await mkdtemp(join(tmpdir(), "assetd-migrate-"));
    try {
      const url = `sqlite:${join(dir, "fresh.sqlite")}`;
      const outputs = await Promise.all(
        Array.from({ length: 3 }, () => run(process.execPath, ["--import", "tsx", migrateChild, url], { timeout: 60_000 })),
      );
      const applied = outputs.map((o) => (JSON.parse(o.stdout) as { applied: string[] }).applied);
      expect(applied.flat()).toEqual(["001_initial", "002_phash", "003_uploads", "004_access", "005_trash", "006_replica_tier", "007_graph", "008_webhooks", "009_event_retention", "010_prewarm", "011_login_codes"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
