import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createRepos } from "../../src/db/repos.js";
import { rawKey } from "../../src/domain/content-address.js";
import { newAssetId } from "../../src/domain/ids.js";
import type { Repos } from "../../src/ports/repos.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

const at = 1_700_000_000_000;

for (const target of await dialectTargets("acl")) {
  describe.skipIf(target.skip !== undefined)(`grants and revoked tokens (${target.dialect})`, () => {
    let database: TestDatabase;
    let repos: Repos;
    beforeAll(async () => {
      database = await createTestDatabase(target.dialect);
      repos = createRepos(database.handle.db, target.dialect);
    });
    afterAll(async () => database?.dispose());
    beforeEach(async () => database.reset());

    async function asset(isPublic = false): Promise<string> {
      const sha256 = randomBytes(32).toString("hex");
      const { asset } = await repos.recordIngest({
        blob: { sha256, size: 10, storageKey: rawKey(sha256), sniffedType: "image/png", at },
        asset: {
          id: newAssetId(at), owner: "alice", filename: "a.png", declaredType: "image/png", contentType: "image/png",
          kind: "image", size: 10, public: isPublic, tags: {}, createdAt: at,
        },
        events: [{ from: null, to: "verified", reason: "hash verified", at }],
        quota: { reserved: 0, defaultMaxBytes: null },
      });
      return asset.id;
    }

    it("adds, lists (sorted), replaces and removes grants; unknown assets are refused", async () => {
      const id = await asset();
      expect(await repos.acl.add(id, { principal: "group:team", permission: "read" }, at)).toBe(true);
      expect(await repos.acl.add(id, { principal: "bob", permission: "write" }, at)).toBe(true);
      expect(await repos.acl.add(id, { principal: "bob", permission: "write" }, at)).toBe(true);
      expect(await repos.acl.list(id)).toEqual([
        { principal: "bob", permission: "write" },
        { principal: "group:team", permission: "read" },
      ]);
      expect(await repos.acl.replace(id, [{ principal: "carol", permission: "delete" }], at)).toBe(true);
      expect(await repos.acl.list(id)).toEqual([{ principal: "carol", permission: "delete" }]);
      expect(await repos.acl.remove(id, { principal: "carol", permission: "delete" }, at)).toBe(true);
      expect(await repos.acl.remove(id, { principal: "carol", permission: "delete" }, at)).toBe(false);
      expect(await repos.acl.list(id)).toEqual([]);
      expect(await repos.acl.add("01J00000000000000000000000", { principal: "bob", permission: "read" }, at)).toBe(false);
      expect(await repos.acl.replace("01J00000000000000000000000", [], at)).toBe(false);
    });

    it("answers the permissions of a caller's principals only", async () => {
      const id = await asset();
      await repos.acl.replace(id, [
        { principal: "bob", permission: "read" }, { principal: "group:team", permission: "write" }, { principal: "group:team", permission: "read" },
      ], at);
      expect((await repos.acl.permissionsOf(id, ["*", "bob"])).sort()).toEqual(["read"]);
      expect((await repos.acl.permissionsOf(id, ["*", "dave", "group:team"])).sort()).toEqual(["read", "write"]);
      expect(await repos.acl.permissionsOf(id, ["*", "eve"])).toEqual([]);
      expect(await repos.acl.permissionsOf(id, [])).toEqual([]);
    });

    it("keeps asset.public equal to the * read grant", async () => {
      const id = await asset(true);
      // Ingest of a public asset writes its grant in the same transaction.
      expect(await repos.acl.list(id)).toEqual([{ principal: "*", permission: "read" }]);
      await repos.acl.remove(id, { principal: "*", permission: "read" }, at + 1);
      expect((await repos.assets.get(id))!.public).toBe(false);
      await repos.acl.add(id, { principal: "*", permission: "read" }, at + 2);
      expect((await repos.assets.get(id))!.public).toBe(true);
      await repos.acl.replace(id, [{ principal: "bob", permission: "read" }], at + 3);
      expect((await repos.assets.get(id))!.public).toBe(false);
      await repos.assets.patch(id, { public: true, at: at + 4 });
      expect(await repos.acl.list(id)).toEqual([{ principal: "*", permission: "read" }, { principal: "bob", permission: "read" }]);
      await repos.assets.patch(id, { public: false, at: at + 5 });
      expect(await repos.acl.list(id)).toEqual([{ principal: "bob", permission: "read" }]);
    });

    it("remembers revoked token ids until they would have expired", async () => {
      await repos.tokens.revoke("jti-1", at + 1000, at);
      await repos.tokens.revoke("jti-1", at + 1000, at);
      await repos.tokens.revoke("jti-2", null, at);
      expect(await repos.tokens.isRevoked("jti-1")).toBe(true);
      expect(await repos.tokens.isRevoked("jti-3")).toBe(false);
      expect(await repos.tokens.forgetExpired(at + 1000)).toBe(1);
      expect(await repos.tokens.isRevoked("jti-1")).toBe(false);
      expect(await repos.tokens.isRevoked("jti-2")).toBe(true);
    });
  });
}
