import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createRepos } from "../../src/db/repos.js";
import { createEventRetention } from "../../src/services/event-retention.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);

for (const target of await dialectTargets("event-retention")) {
  describe.skipIf(target.skip !== undefined)(`event retention (${target.dialect})`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(target.dialect);
    });
    afterAll(async () => database?.dispose());

    it("deletes events past the retention period, oldest first, and keeps the asset and its recent history", async () => {
      const db = database.handle.db;
      await db.insertInto("asset").values({
        id: "A1", owner: "alice", filename: "a.png", kind: "image", status: "ready", public: 0, created_at: NOW - 400 * DAY, updated_at: NOW,
      }).execute();
      // 12 003 events, one every 45 minutes ending now: about 375 days of history.
      const ages = Array.from({ length: 12_003 }, (_, i) => (12_002 - i) * 45 * 60_000);
      for (let i = 0; i < ages.length; i += 1000) {
        await db.insertInto("asset_event").values(ages.slice(i, i + 1000).map((age) => ({
          asset_id: "A1", from_status: "verified", to_status: "ready", reason: "metadata extracted", at: NOW - age,
        }))).execute();
      }
      const repos = createRepos(db, target.dialect);
      const expected = ages.filter((age) => age > 365 * DAY).length;
      const retention = createEventRetention({ eventLog: repos.eventLog, clock: { now: () => NOW }, retentionDays: 365 });
      expect(await retention.prune()).toBe(expected);
      expect(await retention.prune()).toBe(0);

      const events = await repos.assets.events("A1");
      expect(events).toHaveLength(ages.length - expected);
      expect(Math.min(...events.map((e) => e.at))).toBeGreaterThanOrEqual(NOW - 365 * DAY);
      expect((await repos.assets.get("A1"))?.status).toBe("ready");

      const keepAll = createEventRetention({ eventLog: repos.eventLog, clock: { now: () => NOW + 1000 * DAY }, retentionDays: 0 });
      expect(await keepAll.prune()).toBe(0);
      const { rows } = await sql<{ n: number }>`select count(*) as n from asset_event`.execute(db);
      expect(Number(rows[0]!.n)).toBe(ages.length - expected);
    }, 60_000);
  });
}
