import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRepos } from "../../src/db/repos.js";
import { rawKey } from "../../src/domain/content-address.js";
import { newAssetId } from "../../src/domain/ids.js";
import type { WebhookEvent } from "../../src/domain/webhooks.js";
import type { AssetRow, Repos } from "../../src/ports/repos.js";
import { createTestDatabase, dialectTargets, type TestDatabase } from "./databases.js";

/**
 * The webhook outbox: the rows a state change leaves for its subscriptions are written by
 * the repository call that makes the change, on both dialects, and only when it applies.
 */
for (const target of await dialectTargets("webhooks")) {
  describe.skipIf(target.skip !== undefined)(`webhook outbox on ${target.dialect}`, () => {
    let database: TestDatabase;
    let repos: Repos;
    const at = 1_700_000_000_000;

    const hook = async (owner: string, events: WebhookEvent[]) => {
      const id = newAssetId(at);
      await repos.webhooks.create({ id, principal: owner === "*" ? "admin" : owner, owner, url: "https://hooks.example/in", events, secret: "whsec_c2VjcmV0", createdAt: at });
      return id;
    };
    const verifiedAsset = async (owner: string): Promise<AssetRow> => {
      const sha256 = randomBytes(32).toString("hex");
      const { asset } = await repos.recordIngest({
        blob: { sha256, size: 10, storageKey: rawKey(sha256), sniffedType: "image/png", at },
        asset: { id: newAssetId(at), owner, filename: "a.png", declaredType: "image/png", contentType: "image/png", kind: "image", size: 10, public: false, tags: {}, createdAt: at },
        events: [{ from: null, to: "pending", reason: "upload", at }, { from: "pending", to: "verified", reason: "hashed", at }],
        quota: { reserved: 0, defaultMaxBytes: null },
      });
      return asset;
    };
    const outbox = async (webhookId: string) => (await repos.webhooks.deliveries(webhookId, 100)).map((d) => [d.type, d.assetId, d.state]);

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

    it("writes one row per matching subscription with the transition, none for a lost race or an unsubscribed type", async () => {
      const alices = await hook("alice", ["asset.ready", "asset.deleted"]);
      const onlyFailed = await hook("alice", ["asset.failed"]);
      const bobs = await hook("bob", ["asset.ready"]);
      const everyone = await hook("*", ["asset.ready"]);
      const asset = await verifiedAsset("alice");
      expect(await outbox(alices)).toEqual([]); // verified is no event

      expect(await repos.assets.transition(asset.id, { from: "verified", to: "ready", reason: "meta", at: at + 1 })).toBeDefined();
      // The same change again loses the compare-and-set and leaves nothing.
      expect(await repos.assets.transition(asset.id, { from: "verified", to: "ready", reason: "meta", at: at + 2 })).toBeUndefined();
      expect(await outbox(alices)).toEqual([["asset.ready", asset.id, "pending"]]);
      expect(await outbox(everyone)).toEqual([["asset.ready", asset.id, "pending"]]);
      expect(await outbox(bobs)).toEqual([]);
      expect(await outbox(onlyFailed)).toEqual([]);

      expect(await repos.softDelete(asset.id, "ready", "deleted by owner", at + 3)).toBeDefined();
      expect(await repos.softDelete(asset.id, "ready", "again", at + 4)).toBeUndefined();
      expect((await outbox(alices)).map((r) => r[0])).toEqual(["asset.deleted", "asset.ready"]);
      expect(await repos.webhooks.unqueued(10)).toHaveLength(3);
    });

    it("keeps a delivery's first body and numbers attempts; replay only once it is settled", async () => {
      const id = await hook("carol", ["asset.ready"]);
      const asset = await verifiedAsset("carol");
      await repos.assets.transition(asset.id, { from: "verified", to: "ready", reason: "meta", at: at + 1 });
      const [deliveryId] = await repos.webhooks.unqueued(10);
      await repos.webhooks.markQueued([deliveryId!], at + 2);
      expect(await repos.webhooks.unqueued(10)).toEqual([]);
      expect(await repos.webhooks.fixBody(deliveryId!, "first")).toBe("first");
      expect(await repos.webhooks.fixBody(deliveryId!, "second")).toBe("first");
      expect(await repos.webhooks.replay(deliveryId!, at + 3)).toBe(false); // still pending
      expect(await repos.webhooks.startAttempt(deliveryId!, at + 4)).toBe(1);
      await repos.webhooks.finishAttempt(deliveryId!, 1, { finishedAt: at + 5, responseStatus: 500, error: "the receiver answered 500", responseBody: "no", state: "dead" });
      expect(await repos.webhooks.replay(deliveryId!, at + 6)).toBe(true);
      expect(await repos.webhooks.unqueued(10)).toEqual([deliveryId]);
      expect(await repos.webhooks.startAttempt(deliveryId!, at + 7)).toBe(2);
      const [logged] = await repos.webhooks.deliveries(id, 10);
      expect(logged!.attemptLog.map((a) => [a.attempt, a.responseStatus, a.responseBody])).toEqual([[1, 500, "no"], [2, null, null]]);
      expect(await repos.webhooks.delete(id)).toBe(true);
      expect(await repos.webhooks.delivery(deliveryId!)).toBeUndefined();
    });
  });
}
