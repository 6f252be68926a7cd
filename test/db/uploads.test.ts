import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createRepos } from "../../src/db/repos.js";
import { rawKey } from "../../src/domain/content-address.js";
import { newAssetId } from "../../src/domain/ids.js";
import type { NewPendingAsset, Repos, UploadSession } from "../../src/ports/repos.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const AT = 1_700_000_000_000;

function pending(owner: string, size: number): { asset: NewPendingAsset; session: UploadSession } {
  const id = newAssetId(AT);
  return {
    asset: { id, owner, filename: "big.bin", declaredType: "application/octet-stream", kind: "other", public: false, tags: { k: "v" }, createdAt: AT },
    session: {
      assetId: id, owner, kind: "single", stagingKey: `uploads/${id.toLowerCase()}/data`, contentType: "application/octet-stream",
      expectedSize: size, expectedSha256: null, multipartId: null, partSize: null, reservedBytes: size, expiresAt: AT + 1000, createdAt: AT,
    },
  };
}

for (const target of await dialectTargets("uploads")) {
  describe.skipIf(target.skip !== undefined)(`upload sessions and quotas on ${target.dialect}`, () => {
    let database: TestDatabase;
    let repos: Repos;

    beforeAll(async () => {
      database = await createTestDatabase(target.dialect);
      repos = createRepos(database.handle.db, database.handle.dialect);
    });
    afterAll(async () => database?.dispose());
    beforeEach(async () => database.reset());

    it("reserves atomically: 20 concurrent reservations against room for 10 let exactly 10 through", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => repos.quotas.reserve("carol", 100, 1000)));
      expect(results.filter(Boolean).length).toBe(10);
      expect(await repos.quotas.get("carol")).toEqual({ owner: "carol", maxBytes: null, usedBytes: 0, reservedBytes: 1000 });
    });

    it("opens 20 sessions concurrently against room for 10: 10 pending assets, 10 refusals, nothing else written", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => {
        const { asset, session } = pending("erin", 5 * 1024 ** 3);
        return repos.uploads.open(asset, session, 50 * 1024 ** 3);
      }));
      const opened = results.filter((r) => "asset" in r);
      expect(opened.length).toBe(10);
      expect(results.filter((r) => "quotaExceeded" in r).length).toBe(10);
      expect((await repos.quotas.get("erin")).reservedBytes).toBe(50 * 1024 ** 3);
      const assets = await repos.assets.list({ owner: "erin", status: "pending" }, { kind: "all" }, { limit: 100 });
      expect(assets.length).toBe(10);
    });

    it("completes a session: asset verified with its content, session gone, reservation settled into used bytes", async () => {
      const { asset, session } = pending("alice", 1234);
      const opened = await repos.uploads.open(asset, session, null);
      expect("asset" in opened && opened.asset.status).toBe("pending");
      expect(await repos.uploads.get(asset.id)).toEqual(session);

      const sha256 = randomBytes(32).toString("hex");
      const done = await repos.uploads.complete({
        assetId: asset.id,
        blob: { sha256, size: 1234, storageKey: rawKey(sha256), sniffedType: "application/zip", at: AT + 5 },
        contentType: "application/zip",
        kind: "other",
        events: [
          { from: "pending", to: "uploaded", reason: "bytes received", at: AT + 4 },
          { from: "uploaded", to: "verified", reason: "hashed", at: AT + 5 },
        ],
      });
      expect(done?.blobCreated).toBe(true);
      expect(done?.asset).toMatchObject({ status: "verified", blobSha256: sha256, size: 1234, contentType: "application/zip", tags: { k: "v" } });
      expect(await repos.uploads.get(asset.id)).toBeUndefined();
      expect(await repos.quotas.get("alice")).toMatchObject({ usedBytes: 1234, reservedBytes: 0 });
      expect((await repos.assets.events(asset.id)).map((e) => e.to)).toEqual(["pending", "uploaded", "verified"]);

      // A second completion finds nothing pending.
      expect(await repos.uploads.complete({
        assetId: asset.id, blob: { sha256, size: 1234, storageKey: rawKey(sha256), sniffedType: "application/zip", at: AT + 6 },
        contentType: "application/zip", kind: "other", events: [{ from: "pending", to: "verified", reason: "again", at: AT + 6 }],
      })).toBeUndefined();
      expect((await repos.blobs.get(sha256))?.refcount).toBe(1);

      // Deleting gives the bytes back.
      await repos.softDelete(asset.id, "verified", "test", AT + 7);
      expect(await repos.quotas.get("alice")).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
    });

    it("closes a session as failed or deleted, releasing its reservation", async () => {
      const first = pending("bob", 500);
      const second = pending("bob", 700);
      await repos.uploads.open(first.asset, first.session, null);
      await repos.uploads.open(second.asset, second.session, null);
      expect((await repos.quotas.get("bob")).reservedBytes).toBe(1200);

      const failed = await repos.uploads.close(first.asset.id, "failed", "checksum", AT + 1, { code: "checksum_mismatch", message: "no" });
      expect(failed).toMatchObject({ status: "failed", failure: { code: "checksum_mismatch" } });
      expect(await repos.uploads.close(first.asset.id, "deleted", "again", AT + 2)).toBeUndefined();
      // softDelete of a pending asset closes its session the same way.
      await repos.softDelete(second.asset.id, "pending", "user deleted it", AT + 3);
      expect(await repos.uploads.get(second.asset.id)).toBeUndefined();
      expect(await repos.quotas.get("bob")).toMatchObject({ usedBytes: 0, reservedBytes: 0 });
    });

    it("finds expired sessions oldest first", async () => {
      const a = pending("alice", 1);
      const b = pending("alice", 1);
      await repos.uploads.open(a.asset, { ...a.session, expiresAt: AT + 20 }, null);
      await repos.uploads.open(b.asset, { ...b.session, expiresAt: AT + 10 }, null);
      expect((await repos.uploads.expired(AT + 15, 10)).map((s) => s.assetId)).toEqual([b.asset.id]);
      expect((await repos.uploads.expired(AT + 25, 10)).map((s) => s.assetId)).toEqual([b.asset.id, a.asset.id]);
    });

    it("charges direct ingests beyond their reservation only when they fit", async () => {
      await repos.quotas.setLimit("dan", 1500);
      const sha = () => randomBytes(32).toString("hex");
      const record = (size: number, reserved: number) => {
        const sha256 = sha();
        return {
          blob: { sha256, size, storageKey: rawKey(sha256), sniffedType: "image/png", at: AT },
          asset: { id: newAssetId(AT), owner: "dan", filename: "a.png", declaredType: null, contentType: "image/png", kind: "image" as const, size, public: false, tags: {}, createdAt: AT },
          events: [{ from: null, to: "verified" as const, reason: "ingested", at: AT }],
          quota: { reserved, defaultMaxBytes: 10 },
        };
      };
      await repos.recordIngest(record(1000, 0));
      await expect(repos.recordIngest(record(600, 0))).rejects.toMatchObject({ code: "quota_exceeded" });
      expect(await repos.quotas.get("dan")).toMatchObject({ maxBytes: 1500, usedBytes: 1000 });
      // A reservation taken up front settles into used bytes.
      expect(await repos.quotas.reserve("dan", 400, 10)).toBe(true);
      await repos.recordIngest(record(400, 400));
      expect(await repos.quotas.get("dan")).toMatchObject({ usedBytes: 1400, reservedBytes: 0 });
      expect((await repos.quotas.setLimit("dan", null)).maxBytes).toBeNull();
      expect((await repos.quotas.list()).map((q) => q.owner)).toEqual(["dan"]);
    });
  });
}
