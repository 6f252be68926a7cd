import { createHash, randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createRepos } from "../../src/db/repos.js";
import { migrate } from "../../src/db/migrations/index.js";
import { rawKey } from "../../src/domain/content-address.js";
import { newAssetId } from "../../src/domain/ids.js";
import type { AssetKind } from "../../src/domain/media-types.js";
import type { AssetStatus } from "../../src/domain/states.js";
import type { IngestRecord, Repos, VariantRow } from "../../src/ports/repos.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const sha = (seed: string) => createHash("sha256").update(seed).digest("hex");

interface IngestInput {
  sha256?: string;
  size?: number;
  owner?: string;
  filename?: string;
  contentType?: string;
  kind?: AssetKind;
  public?: boolean;
  tags?: Record<string, string>;
  createdAt?: number;
  status?: AssetStatus;
}

/** A direct upload's record: pending -> uploaded -> verified (or another final state). */
function ingestRecord(input: IngestInput = {}): IngestRecord {
  const sha256 = input.sha256 ?? randomBytes(32).toString("hex");
  const at = input.createdAt ?? 1_700_000_000_000;
  const size = input.size ?? 1000;
  const contentType = input.contentType ?? "image/png";
  return {
    blob: { sha256, size, storageKey: rawKey(sha256), sniffedType: contentType, at },
    asset: {
      id: newAssetId(at),
      owner: input.owner ?? "alice",
      filename: input.filename ?? "photo.png",
      declaredType: contentType,
      contentType,
      kind: input.kind ?? "image",
      size,
      public: input.public ?? false,
      tags: input.tags ?? {},
      createdAt: at,
    },
    events: [
      { from: null, to: "pending", reason: "upload started", at },
      { from: "pending", to: "uploaded", reason: "bytes received", at },
      { from: "uploaded", to: input.status ?? "verified", reason: "hash verified", at: at + 1 },
    ],
    quota: { reserved: 0, defaultMaxBytes: null },
  };
}

const variant = (blobSha256: string, n: number, size = 100): VariantRow => ({
  cacheKey: sha(`${blobSha256}:${n}`),
  blobSha256,
  recipe: `w=${n}`,
  storageKey: `variants/${n}`,
  contentType: "image/webp",
  size,
  createdAt: 1000,
  lastAccessAt: 1000,
  hits: 0,
});

for (const target of await dialectTargets("repos")) {
  describe.skipIf(target.skip !== undefined)(`repos on ${target.dialect}`, () => {
    let database: TestDatabase;
    let repos: Repos;

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

    describe("migrations", () => {
      it("are idempotent: a second run applies nothing", async () => {
        expect(await migrate(database.handle.db)).toEqual({ applied: [] });
      });
    });

    describe("recordIngest", () => {
      it("inserts the blob, the asset with its tags and the events in one go", async () => {
        const record = ingestRecord({ tags: { album: "summer", camera: "x100" }, public: true });
        const result = await repos.recordIngest(record);
        expect(result.blobCreated).toBe(true);
        expect(result.refcount).toBe(1);
        expect(result.asset).toMatchObject({
          id: record.asset.id,
          owner: "alice",
          blobSha256: record.blob.sha256,
          status: "verified",
          public: true,
          failure: null,
          meta: null,
          tags: { album: "summer", camera: "x100" },
          size: 1000,
          deletedAt: null,
        });
        expect(await repos.assets.get(record.asset.id)).toEqual(result.asset);
        expect((await repos.assets.events(record.asset.id)).map((e) => [e.from, e.to])).toEqual([
          [null, "pending"],
          ["pending", "uploaded"],
          ["uploaded", "verified"],
        ]);
        expect(await repos.blobs.get(record.blob.sha256)).toEqual({
          sha256: record.blob.sha256,
          size: 1000,
          storageKey: rawKey(record.blob.sha256),
          sniffedType: "image/png",
          refcount: 1,
          tier: "hot",
          createdAt: record.blob.at,
          lastVerifiedAt: null,
          replicated: false,
          state: "live",
          generation: 1,
        });
      });

      it("deduplicates 20 concurrent ingests of one content into one blob with refcount 20", async () => {
        const content = sha("same bytes");
        const results = await Promise.all(Array.from({ length: 20 }, () => repos.recordIngest(ingestRecord({ sha256: content }))));
        expect(results.filter((r) => r.blobCreated)).toHaveLength(1);
        expect(results.map((r) => r.refcount).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect((await repos.blobs.get(content))?.refcount).toBe(20);
        const blobs = await database.handle.db.selectFrom("blob").select("sha256").execute();
        expect(blobs).toEqual([{ sha256: content }]);
        expect(await database.handle.db.selectFrom("asset").select("id").execute()).toHaveLength(20);
      });

      it("rolls back the blob reference when the asset cannot be inserted", async () => {
        const record = ingestRecord();
        await repos.recordIngest(record);
        await expect(repos.recordIngest({ ...record, events: record.events })).rejects.toThrow();
        expect((await repos.blobs.get(record.blob.sha256))?.refcount).toBe(1);
      });

      it("keeps sizes above 2^32 exact (int8 comes back as a number)", async () => {
        const record = ingestRecord({ size: 5_000_000_123 });
        const { asset } = await repos.recordIngest(record);
        expect(asset.size).toBe(5_000_000_123);
        expect((await repos.assets.get(asset.id))?.size).toBe(5_000_000_123);
        expect((await repos.blobs.get(record.blob.sha256))?.size).toBe(5_000_000_123);
        expect(typeof (await repos.assets.get(asset.id))?.createdAt).toBe("number");
      });
    });

    describe("transition", () => {
      it("applies a compare-and-set: of two changes from the same state only one wins", async () => {
        const { asset } = await repos.recordIngest(ingestRecord());
        const [a, b] = await Promise.all([
          repos.assets.transition(asset.id, { from: "verified", to: "ready", reason: "metadata extracted", at: 5000 }),
          repos.assets.transition(asset.id, { from: "verified", to: "failed", reason: "extraction failed", at: 5000, failure: { code: "x", message: "y" } }),
        ]);
        expect([a, b].filter((r) => r !== undefined)).toHaveLength(1);
        const winner = (a ?? b)!;
        expect((await repos.assets.get(asset.id))?.status).toBe(winner.status);
        const events = await repos.assets.events(asset.id);
        expect(events).toHaveLength(4);
        expect(events.at(-1)).toMatchObject({ from: "verified", to: winner.status });
        // The loser's `from` is stale now.
        expect(await repos.assets.transition(asset.id, { from: "verified", to: "ready", reason: "again", at: 6000 })).toBeUndefined();
      });

      it("sets and clears the failure, replaces meta and keeps tags", async () => {
        const { asset } = await repos.recordIngest(ingestRecord({ tags: { a: "1" } }));
        const ready = await repos.assets.transition(asset.id, {
          from: "verified", to: "ready", reason: "metadata extracted", at: 7000, meta: { width: 640, height: 480, exif: { make: "Fuji" } },
        });
        expect(ready).toMatchObject({ status: "ready", updatedAt: 7000, meta: { width: 640, height: 480, exif: { make: "Fuji" } }, tags: { a: "1" } });
        const failed = await repos.assets.transition(asset.id, { from: "ready", to: "failed", reason: "scrub", at: 8000, failure: { code: "blob_missing", message: "gone" } });
        expect(failed?.failure).toEqual({ code: "blob_missing", message: "gone" });
        expect(failed?.meta).toEqual({ width: 640, height: 480, exif: { make: "Fuji" } });
        // The repository does not validate edges (the domain does); it only compares and sets.
        const cleared = await repos.assets.transition(asset.id, { from: "failed", to: "ready", reason: "repaired", at: 9000, failure: null });
        expect(cleared?.failure).toBeNull();
      });

      it("returns undefined for an unknown asset", async () => {
        expect(await repos.assets.transition(newAssetId(), { from: "verified", to: "ready", reason: "x", at: 1 })).toBeUndefined();
      });
    });

    describe("softDelete", () => {
      it("keeps a trashed asset's reference until it is purged, and never goes below zero", async () => {
        const content = sha("shared");
        const first = await repos.recordIngest(ingestRecord({ sha256: content }));
        const second = await repos.recordIngest(ingestRecord({ sha256: content }));
        expect(second.refcount).toBe(2);

        const deleted = await repos.softDelete(first.asset.id, "verified", "user request", 10_000);
        expect(deleted?.refcount).toBe(2);
        expect(deleted?.asset).toMatchObject({ status: "deleted", deletedAt: 10_000, updatedAt: 10_000 });
        expect((await repos.assets.events(first.asset.id)).at(-1)).toMatchObject({ from: "verified", to: "deleted", reason: "user request" });

        // A second delete (or one from a stale state) loses the compare-and-set.
        expect(await repos.softDelete(first.asset.id, "verified", "again", 11_000)).toBeUndefined();
        expect(await repos.softDelete(first.asset.id, "deleted", "again", 11_000)).toBeUndefined();
        expect(await repos.trash.inTrash(first.asset.id)).toBe(true);
        expect(await repos.trash.purge(first.asset.id, "purged", 10_500)).toEqual({ refcount: 1 });
        expect(await repos.trash.purge(first.asset.id, "purged", 10_600)).toBeUndefined();
        expect((await repos.blobs.get(content))?.refcount).toBe(1);

        await database.handle.db.updateTable("blob").set({ refcount: 0 }).where("sha256", "=", content).execute();
        await repos.softDelete(second.asset.id, "verified", "user request", 12_000);
        expect(await repos.trash.purge(second.asset.id, "purged", 12_000)).toEqual({ refcount: 0 });
      });

      it("removes an unreferenced blob row only at refcount 0", async () => {
        const { asset, } = await repos.recordIngest(ingestRecord({ sha256: sha("gc me") }));
        expect(await repos.blobs.removeIfUnreferenced(sha("gc me"))).toBe(false);
        await repos.softDelete(asset.id, "verified", "user request", 2);
        expect(await repos.blobs.removeIfUnreferenced(sha("gc me"))).toBe(false);
        await repos.trash.purge(asset.id, "purged", 3);
        expect(await repos.blobs.removeIfUnreferenced(sha("gc me"))).toBe(true);
        expect(await repos.blobs.get(sha("gc me"))).toBeUndefined();
        // Deleted assets keep their history.
        expect((await repos.assets.get(asset.id))?.blobSha256).toBe(sha("gc me"));
      });

      it("revives a blob at refcount 0 without calling it created", async () => {
        const content = sha("revived");
        const { asset } = await repos.recordIngest(ingestRecord({ sha256: content }));
        await repos.softDelete(asset.id, "verified", "user request", 2);
        await repos.trash.purge(asset.id, "purged", 3);
        const again = await repos.recordIngest(ingestRecord({ sha256: content }));
        expect(again).toMatchObject({ blobCreated: false, refcount: 1 });
      });
    });

    describe("list", () => {
      const at = 1_700_000_000_000;

      it("returns newest first with keyset pagination and the rows' tags", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await repos.recordIngest(ingestRecord({ createdAt: at + i, tags: { n: String(i) } }))).asset.id);
        const all = { kind: "all" } as const;
        const seen: string[] = [];
        let beforeId: string | undefined;
        for (;;) {
          const page = await repos.assets.list({}, all, { limit: 3, ...(beforeId ? { beforeId } : {}) });
          if (page.length === 0) break;
          seen.push(...page.map((a) => a.id));
          for (const a of page) expect(a.tags).toEqual({ n: String(ids.indexOf(a.id)) });
          beforeId = page.at(-1)!.id;
        }
        expect(seen).toEqual([...ids].reverse());
      });

      it("shows a principal their own assets and public ones, and anonymous callers public ones only", async () => {
        const mine = await repos.recordIngest(ingestRecord({ owner: "alice" }));
        const theirsPrivate = await repos.recordIngest(ingestRecord({ owner: "bob" }));
        const theirsPublic = await repos.recordIngest(ingestRecord({ owner: "bob", public: true }));
        const ids = async (visibility: Parameters<Repos["assets"]["list"]>[1]) =>
          (await repos.assets.list({}, visibility, { limit: 100 })).map((a) => a.id).sort();
        expect(await ids({ kind: "principal", owner: "alice", principals: ["*", "alice"] })).toEqual([mine.asset.id, theirsPublic.asset.id].sort());
        expect(await ids({ kind: "principal", owner: null, principals: ["*"] })).toEqual([theirsPublic.asset.id]);
        expect(await ids({ kind: "all" })).toEqual([mine.asset.id, theirsPrivate.asset.id, theirsPublic.asset.id].sort());
      });

      it("hides deleted assets and aborted uploads unless a status is asked for", async () => {
        const live = await repos.recordIngest(ingestRecord());
        const deleted = await repos.recordIngest(ingestRecord());
        await repos.softDelete(deleted.asset.id, "verified", "user request", at);
        const aborted = await repos.recordIngest(ingestRecord());
        await repos.assets.transition(aborted.asset.id, { from: "verified", to: "failed", reason: "aborted", at, failure: { code: "upload_aborted", message: "client went away" } });
        const failed = await repos.recordIngest(ingestRecord());
        await repos.assets.transition(failed.asset.id, { from: "verified", to: "failed", reason: "bad", at, failure: { code: "undecodable_media", message: "bad" } });

        const list = async (status?: AssetStatus) =>
          (await repos.assets.list(status ? { status } : {}, { kind: "all" }, { limit: 100 })).map((a) => a.id).sort();
        expect(await list()).toEqual([live.asset.id, failed.asset.id].sort());
        expect(await list("deleted")).toEqual([deleted.asset.id]);
        expect(await list("failed")).toEqual([aborted.asset.id, failed.asset.id].sort());
      });

      it("filters by kind, owner, all given tags, filename substring and creation time", async () => {
        const cat = await repos.recordIngest(ingestRecord({ filename: "Big_Cat 100%.PNG", tags: { album: "pets", year: "2024" }, createdAt: at }));
        const dog = await repos.recordIngest(ingestRecord({ filename: "dog.png", tags: { album: "pets", year: "2023" }, createdAt: at + 10 }));
        const clip = await repos.recordIngest(ingestRecord({ filename: "cat-video.mp4", kind: "video", contentType: "video/mp4", owner: "bob", createdAt: at + 20 }));
        const find = async (filter: Parameters<Repos["assets"]["list"]>[0]) =>
          (await repos.assets.list(filter, { kind: "all" }, { limit: 100 })).map((a) => a.id).sort();

        expect(await find({ kind: "video" })).toEqual([clip.asset.id]);
        expect(await find({ owner: "bob" })).toEqual([clip.asset.id]);
        expect(await find({ tags: [["album", "pets"]] })).toEqual([cat.asset.id, dog.asset.id].sort());
        expect(await find({ tags: [["album", "pets"], ["year", "2024"]] })).toEqual([cat.asset.id]);
        expect(await find({ tags: [["album", "pets"], ["year", "1999"]] })).toEqual([]);
        expect(await find({ q: "CAT" })).toEqual([cat.asset.id, clip.asset.id].sort());
        expect(await find({ q: "big_cat" })).toEqual([cat.asset.id]);
        // LIKE wildcards in the search text match literally.
        expect(await find({ q: "_" })).toEqual([cat.asset.id]);
        expect(await find({ q: "100%" })).toEqual([cat.asset.id]);
        expect(await find({ q: "%" })).toEqual([cat.asset.id]);
        expect(await find({ createdAfter: at + 10 })).toEqual([dog.asset.id, clip.asset.id].sort());
        expect(await find({ createdBefore: at + 10 })).toEqual([cat.asset.id]);
        expect(await find({ createdAfter: at + 1, createdBefore: at + 20 })).toEqual([dog.asset.id]);
        expect(await find({ kind: "image", tags: [["album", "pets"]], q: "dog" })).toEqual([dog.asset.id]);
      });
    });

    describe("patch", () => {
      it("renames, publishes, sets and removes tags", async () => {
        const { asset } = await repos.recordIngest(ingestRecord({ tags: { keep: "1", drop: "2", change: "a" } }));
        const patched = await repos.assets.patch(asset.id, { filename: "renamed.png", public: true, tags: { drop: null, change: "b", add: "c" }, at: 42 });
        expect(patched).toMatchObject({ filename: "renamed.png", public: true, updatedAt: 42, tags: { keep: "1", change: "b", add: "c" } });
        expect(await repos.assets.get(asset.id)).toEqual(patched);
        const onlyTime = await repos.assets.patch(asset.id, { at: 43 });
        expect(onlyTime).toMatchObject({ filename: "renamed.png", public: true, updatedAt: 43 });
      });

      it("returns undefined for an unknown asset", async () => {
        expect(await repos.assets.patch(newAssetId(), { filename: "x", at: 1 })).toBeUndefined();
      });
    });

    describe("variants", () => {
      it("puts, replaces, counts hits, lists by blob and deletes", async () => {
        const blob = sha("source");
        const one = variant(blob, 1);
        await repos.variants.put(one);
        await repos.variants.put(variant(blob, 2));
        await repos.variants.put(variant(sha("other"), 3));
        expect(await repos.variants.get(one.cacheKey)).toEqual({ ...one, parent: null });
        await repos.variants.put({ ...one, size: 555 });
        expect((await repos.variants.get(one.cacheKey))?.size).toBe(555);

        await repos.variants.recordHits(new Map([[one.cacheKey, { count: 3, at: 5000 }]]));
        await repos.variants.recordHits(new Map([[one.cacheKey, { count: 2, at: 4000 }]]));
        expect(await repos.variants.get(one.cacheKey)).toMatchObject({ hits: 5, lastAccessAt: 5000 });

        expect((await repos.variants.listByBlob(blob)).map((v) => v.recipe).sort()).toEqual(["w=1", "w=2"]);
        await repos.variants.delete([one.cacheKey]);
        await repos.variants.delete([]);
        expect(await repos.variants.get(one.cacheKey)).toBeUndefined();
        expect(await repos.variants.listByBlob(blob)).toHaveLength(1);
      });
    });

    describe("variant eviction", () => {
      it("counts per blob, sums sizes, lists least recently used first and evicts only unchanged rows", async () => {
        const blob = sha("evicted source");
        const [a, b, c] = [1, 2, 3].map((n) => variant(blob, n, n * 10));
        await repos.variants.put({ ...a!, lastAccessAt: 3000 });
        await repos.variants.put({ ...b!, lastAccessAt: 2000, hits: 5 });
        await repos.variants.put({ ...c!, lastAccessAt: 2000, hits: 1 });
        expect(await repos.variants.countByBlob(blob)).toBe(3);
        expect(await repos.variants.countByBlob(sha("nothing"))).toBe(0);
        const total = await repos.variants.totalSize();
        expect(total).toBeGreaterThanOrEqual(60);
        const order = (await repos.variants.leastRecentlyUsed(1000)).filter((v) => v.blobSha256 === blob).map((v) => v.recipe);
        expect(order).toEqual(["w=3", "w=2", "w=1"]);
        // Rendered again since it was read: not evicted.
        await repos.variants.put({ ...c!, createdAt: 9000, lastAccessAt: 9000 });
        expect(await repos.variants.evict(c!.cacheKey, c!.createdAt)).toBe(false);
        expect(await repos.variants.evict(b!.cacheKey, b!.createdAt)).toBe(true);
        expect(await repos.variants.evict(b!.cacheKey, b!.createdAt)).toBe(false);
        expect(await repos.variants.countByBlob(blob)).toBe(2);
        expect(await repos.variants.totalSize()).toBe(total - 20);
      });
    });

    describe("stats", () => {
      it("counts live assets by status and kind, logical vs physical bytes and variants, per owner or overall", async () => {
        const shared = sha("shared for stats");
        const a1 = await repos.recordIngest(ingestRecord({ owner: "alice", sha256: shared, size: 1000 }));
        await repos.recordIngest(ingestRecord({ owner: "alice", sha256: shared, size: 1000 }));
        await repos.recordIngest(ingestRecord({ owner: "alice", size: 300, kind: "video", contentType: "video/mp4" }));
        const bob = await repos.recordIngest(ingestRecord({ owner: "bob", sha256: shared, size: 1000 }));
        const gone = await repos.recordIngest(ingestRecord({ owner: "bob", size: 7 }));
        await repos.softDelete(gone.asset.id, "verified", "user request", 1);
        await repos.assets.transition(a1.asset.id, { from: "verified", to: "ready", reason: "meta", at: 2 });
        await repos.variants.put(variant(shared, 1, 50));
        await repos.variants.put(variant(shared, 2, 70));
        await repos.variants.put(variant(gone.asset.blobSha256!, 3, 9));

        expect(await repos.stats()).toEqual({
          byStatus: { ready: 1, verified: 3 },
          byKind: { image: 3, video: 1 },
          logicalBytes: 3300,
          physicalBytes: 1300,
          variants: { count: 3, bytes: 129 },
        });
        expect(await repos.stats("alice")).toEqual({
          byStatus: { ready: 1, verified: 2 },
          byKind: { image: 2, video: 1 },
          logicalBytes: 2300,
          physicalBytes: 1300,
          variants: { count: 2, bytes: 120 },
        });
        expect(await repos.stats("bob")).toMatchObject({ logicalBytes: 1000, physicalBytes: 1000, variants: { count: 2, bytes: 120 } });
        expect(bob.refcount).toBe(3);
        expect(await repos.stats("nobody")).toEqual({ byStatus: {}, byKind: {}, logicalBytes: 0, physicalBytes: 0, variants: { count: 0, bytes: 0 } });
      });
    });

    it("answers ping", async () => {
      await expect(repos.ping()).resolves.toBeUndefined();
      await expect(sql`select 1`.execute(database.handle.db)).resolves.toBeTruthy();
    });
  });
}
