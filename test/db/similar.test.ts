import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { sqlDialect } from "../../src/db/dialect/index.js";
import { hamming64 } from "../../src/db/dialect/sqlite-functions.js";
import { createRepos } from "../../src/db/repos.js";
import { rawKey } from "../../src/domain/content-address.js";
import { newAssetId } from "../../src/domain/ids.js";
import { int64ToPhash, phashToInt64 } from "../../src/domain/phash.js";
import type { AssetMeta, Repos, Visibility } from "../../src/ports/repos.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

/** `hex` with the given bit positions (0 = most significant) flipped: exactly that many bits away. */
function flip(hex: string, ...bits: number[]): string {
  let value = phashToInt64(hex);
  for (const bit of bits) value ^= 1n << BigInt(63 - bit);
  return int64ToPhash(value);
}

const BASE = "c3a5f00d12345678";
const ALICE: Visibility = { kind: "principal", owner: "alice", principals: ["*", "alice"] };

describe("hamming64 (the SQLite function's body)", () => {
  it("counts differing bits of signed 64-bit integers, NULL in NULL out", () => {
    expect(hamming64(0n, -1n)).toBe(64);
    expect(hamming64(-(2n ** 63n), 1n)).toBe(2);
    expect(hamming64(phashToInt64(BASE), phashToInt64(flip(BASE, 0, 17, 63)))).toBe(3);
    expect(hamming64(5, 6)).toBe(2);
    expect(hamming64(null, 1n)).toBeNull();
    expect(hamming64(1n, null)).toBeNull();
    expect(() => hamming64("1", 1n)).toThrow(TypeError);
    expect(() => hamming64(0.5, 1n)).toThrow(TypeError);
  });
});

for (const target of await dialectTargets("similar")) {
  describe.skipIf(target.skip !== undefined)(`perceptual-hash search on ${target.dialect}`, () => {
    let database: TestDatabase;
    let repos: Repos;
    let clock = 1_700_000_000_000;

    beforeAll(async () => {
      database = await createTestDatabase(target.dialect);
      repos = createRepos(database.handle.db, database.handle.dialect);
    });
    afterAll(async () => {
      await database?.dispose();
    });
    beforeEach(async () => {
      await database.reset();
    });

    /** An ingested asset taken to `ready` with the given meta, as the metadata job does. */
    async function readyAsset(meta: AssetMeta, options: { owner?: string; public?: boolean } = {}): Promise<string> {
      const at = (clock += 1000);
      const sha256 = randomBytes(32).toString("hex");
      const id = newAssetId(at);
      await repos.recordIngest({
        blob: { sha256, size: 10, storageKey: rawKey(sha256), sniffedType: "image/jpeg", at },
        asset: {
          id, owner: options.owner ?? "alice", filename: "p.jpg", declaredType: null, contentType: "image/jpeg",
          kind: "image", size: 10, public: options.public ?? false, tags: { n: id.slice(-4) }, createdAt: at,
        },
        events: [
          { from: null, to: "pending", reason: "upload started", at },
          { from: "pending", to: "uploaded", reason: "bytes received", at },
          { from: "uploaded", to: "verified", reason: "hash verified", at },
        ],
        quota: { reserved: 0, defaultMaxBytes: null },
      });
      const row = await repos.assets.transition(id, { from: "verified", to: "ready", reason: "metadata extracted", at: at + 1, meta });
      expect(row?.status).toBe("ready");
      return id;
    }

    const ids = (items: Array<{ asset: { id: string }; distance: number }>) => items.map((i) => [i.asset.id, i.distance]);

    it("computes the Hamming distance of 64-bit values in SQL, sign bit included", async () => {
      const dialect = sqlDialect(target.dialect);
      const cases: Array<[string, string, number]> = [
        ["0000000000000000", "ffffffffffffffff", 64],
        ["8000000000000000", "0000000000000001", 2],
        ["7fffffffffffffff", "ffffffffffffffff", 1],
        [BASE, flip(BASE, 1, 2, 3, 62), 4],
        [BASE, BASE, 0],
      ];
      for (const [a, b, expected] of cases) {
        const distance = dialect.hammingDistance(sql`cast(${phashToInt64(a)} as bigint)`, sql`cast(${phashToInt64(b)} as bigint)`);
        const { rows } = await sql<{ d: number }>`select ${distance} as d`.execute(database.handle.db);
        expect(Number(rows[0]!.d), `${a} ^ ${b}`).toBe(expected);
      }
      const { rows } = await sql<{ d: unknown }>`select ${dialect.hammingDistance(sql`null`, sql`cast(1 as bigint)`)} as d`
        .execute(database.handle.db);
      expect(rows[0]!.d).toBeNull();
    });

    it("stores meta.phash in the column, bit for bit, when the asset becomes ready", async () => {
      for (const hex of ["ffffffffffffffff", "8000000000000000", "0000000000000001", BASE]) {
        const id = await readyAsset({ phash: hex, width: 1 });
        const match = await database.handle.db.selectFrom("asset").select("id")
          .where("id", "=", id).where("phash", "=", phashToInt64(hex)).execute();
        expect(match, hex).toEqual([{ id }]);
        expect((await repos.assets.get(id))?.meta).toEqual({ phash: hex, width: 1 });
      }
      const without = await readyAsset({ width: 1 });
      const row = await database.handle.db.selectFrom("asset").select("phash").where("id", "=", without).executeTakeFirst();
      expect(row?.phash).toBeNull();
    });

    it("finds ready, visible near-duplicates: closest first, then newest, within maxDistance", async () => {
      const source = await readyAsset({ phash: BASE });
      const near2 = await readyAsset({ phash: flip(BASE, 5, 60) });
      const near5 = await readyAsset({ phash: flip(BASE, 0, 1, 2, 3, 4) });
      const near2Newer = await readyAsset({ phash: flip(BASE, 10, 11) });
      const far = await readyAsset({ phash: flip(BASE, ...Array.from({ length: 30 }, (_, i) => i * 2)) });
      const bobsPrivate = await readyAsset({ phash: flip(BASE, 7) }, { owner: "bob" });
      const bobsPublic = await readyAsset({ phash: flip(BASE, 8, 9, 12) }, { owner: "bob", public: true });
      const noHash = await readyAsset({ width: 10 });
      const same = await readyAsset({ phash: BASE });
      // A deleted duplicate is not offered.
      const deleted = await readyAsset({ phash: BASE });
      await repos.softDelete(deleted, "ready", "test", clock + 1);

      expect(ids(await repos.assets.similar(source, 8, ALICE, 20))).toEqual([
        [same, 0], [near2Newer, 2], [near2, 2], [bobsPublic, 3], [near5, 5],
      ]);
      expect(ids(await repos.assets.similar(source, 4, ALICE, 20)).map(([id]) => id)).toEqual([same, near2Newer, near2, bobsPublic]);
      expect(ids(await repos.assets.similar(source, 0, ALICE, 20))).toEqual([[same, 0]]);
      expect(ids(await repos.assets.similar(source, 8, ALICE, 2))).toEqual([[same, 0], [near2Newer, 2]]);
      expect(ids(await repos.assets.similar(source, 8, { kind: "all" }, 20)).map(([id]) => id))
        .toEqual([same, bobsPrivate, near2Newer, near2, bobsPublic, near5]);
      expect(ids(await repos.assets.similar(source, 8, { kind: "principal", owner: null, principals: ["*"] }, 20))).toEqual([[bobsPublic, 3]]);
      expect(ids(await repos.assets.similar(source, 64, ALICE, 20)).map(([id]) => id)).toContain(far);

      const found = await repos.assets.similar(source, 8, ALICE, 20);
      expect(found[0]!.asset).toEqual(await repos.assets.get(same));
      expect(found.map((f) => f.asset.id)).not.toContain(source);
      expect(found.map((f) => f.asset.id)).not.toContain(noHash);
    });

    it("works across the sign bit and at the full 64-bit distance", async () => {
      const source = await readyAsset({ phash: "ffffffffffffffff" });
      const oneOff = await readyAsset({ phash: "7fffffffffffffff" });
      const lowBit = await readyAsset({ phash: "fffffffffffffffe" });
      const opposite = await readyAsset({ phash: "0000000000000000" });
      expect(ids(await repos.assets.similar(source, 1, ALICE, 20))).toEqual([[lowBit, 1], [oneOff, 1]]);
      expect(ids(await repos.assets.similar(source, 64, ALICE, 20)).at(-1)).toEqual([opposite, 64]);
      expect(ids(await repos.assets.similar(opposite, 63, ALICE, 20))).toEqual([[lowBit, 63], [oneOff, 63]]);
    });

    it("is empty for an asset without a hash and for an unknown id", async () => {
      await readyAsset({ phash: BASE });
      const noHash = await readyAsset({ width: 10 });
      expect(await repos.assets.similar(noHash, 64, { kind: "all" }, 20)).toEqual([]);
      expect(await repos.assets.similar(newAssetId(), 64, { kind: "all" }, 20)).toEqual([]);
    });
  });
}
