import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRepos } from "../../src/db/repos.js";
import type { Repos } from "../../src/ports/repos.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const targets = await dialectTargets("prewarm repo");

for (const { dialect, skip } of targets) {
  describe.skipIf(skip !== undefined)(`prewarm statistics (${dialect})`, () => {
    let database: TestDatabase;
    let repos: Repos;

    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      repos = createRepos(database.handle.db, dialect);
    });
    afterAll(() => database?.dispose());

    it("adds request counts per owner, kind, recipe and day, and ranks within an owner's kind and window", async () => {
      const count = (owner: string, kind: string, recipe: string, day: number, n: number) => ({ owner, kind, recipe, day, count: n });
      await repos.prewarm.recordDemand([count("olga", "image", "w=300&fmt=webp", 10, 2), count("olga", "image", "w=100", 10, 1)]);
      await repos.prewarm.recordDemand([
        count("olga", "image", "w=300&fmt=webp", 10, 3), count("olga", "image", "w=100", 12, 1),
        count("olga", "video", "t=1&w=640", 12, 9), count("otto", "image", "w=50", 12, 9), count("olga", "image", "w=999", 3, 50),
      ]);
      expect(await repos.prewarm.demand("olga", "image", 5, 10)).toEqual([
        { recipe: "w=300&fmt=webp", requests: 5, lastDay: 10 },
        { recipe: "w=100", requests: 2, lastDay: 12 },
      ]);
      expect(await repos.prewarm.demand("olga", "image", 5, 1)).toEqual([{ recipe: "w=300&fmt=webp", requests: 5, lastDay: 10 }]);
      expect(await repos.prewarm.demand("olga", "image", 11, 10)).toEqual([{ recipe: "w=100", requests: 1, lastDay: 12 }]);
      expect(await repos.prewarm.pruneDemand(10)).toBe(1);
      expect((await repos.prewarm.demand("olga", "image", 0, 10)).map((d) => d.recipe)).toEqual(["w=300&fmt=webp", "w=100"]);
    });

    it("records a prewarmed variant once and counts its first request once", async () => {
      const variant = { cacheKey: "k1", assetId: "a1", owner: "olga", kind: "image", recipe: "w=300&fmt=webp", at: 1000 };
      expect(await repos.prewarm.markRendered(variant)).toBe(true);
      expect(await repos.prewarm.markRendered({ ...variant, at: 2000 })).toBe(false);
      expect(await repos.prewarm.markRendered({ ...variant, cacheKey: "k2", owner: "otto" })).toBe(true);
      expect(await repos.prewarm.figures()).toEqual({ variants: 2, requested: 0 });

      expect(await repos.prewarm.markRequested(["k1", "not-prewarmed"], 3000)).toBe(1);
      expect(await repos.prewarm.markRequested(["k1"], 4000)).toBe(0);
      expect(await repos.prewarm.markRequested([], 4000)).toBe(0);
      expect(await repos.prewarm.figures()).toEqual({ variants: 2, requested: 1 });
      expect(await repos.prewarm.figures("olga")).toEqual({ variants: 1, requested: 1 });
      expect(await repos.prewarm.figures("otto")).toEqual({ variants: 1, requested: 0 });
    });
  });
}
