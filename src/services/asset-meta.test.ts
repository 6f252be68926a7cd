import { describe, expect, it } from "vitest";
import type { Grant } from "../domain/grants.js";
import { silentLogger } from "../ports/logger.js";
import { noopMetrics } from "../ports/metrics.js";
import type { AssetRow } from "../ports/repos.js";
import { ASSET_INVALIDATE_TOPIC, createAssetMeta } from "./asset-meta.js";

const ID = "01J00000000000000000000001";

function setUp(options: { publish?: (topic: string, message: string) => Promise<void>; ttlMs?: number; maxEntries?: number } = {}) {
  let now = 0;
  const rows = new Map<string, Partial<AssetRow>>([[ID, { id: ID, owner: "alice", status: "ready", public: false }]]);
  const grants = new Map<string, Grant[]>([[ID, [{ principal: "bob", permission: "read" }]]]);
  const reads: string[] = [];
  let gate: Promise<void> | undefined;
  const published: string[] = [];
  const meta = createAssetMeta({
    repos: {
      assets: {
        get: async (id) => {
          reads.push(id);
          const row = rows.get(id);
          await gate;
          return row ? ({ ...row } as AssetRow) : undefined;
        },
      },
      acl: { list: async (id) => [...(grants.get(id) ?? [])] },
    },
    clock: { now: () => now },
    broadcast: {
      publish: options.publish ?? (async (topic, message) => {
        published.push(`${topic} ${message}`);
      }),
    },
    metrics: noopMetrics,
    logger: silentLogger,
    maxEntries: options.maxEntries ?? 100,
    ttlMs: options.ttlMs ?? 5000,
  });
  return {
    meta, rows, grants, reads, published,
    advance: (ms: number) => (now += ms),
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe("the hot-metadata cache", () => {
  it("reads an asset's row and grants once, then answers from memory", async () => {
    const { meta, reads } = setUp();
    const first = await meta.facts(ID);
    expect(first?.asset.status).toBe("ready");
    expect(first?.grants).toEqual([{ principal: "bob", permission: "read" }]);
    await meta.facts(ID);
    await meta.facts(ID);
    expect(reads).toEqual([ID]);
    expect(meta.counters()).toEqual({ hits: 2, misses: 1, entries: 1 });
  });

  it("does not remember an unknown asset", async () => {
    const { meta, reads } = setUp();
    expect(await meta.facts("01J00000000000000000000009")).toBeUndefined();
    expect(await meta.facts("01J00000000000000000000009")).toBeUndefined();
    expect(reads).toHaveLength(2);
  });

  it("collapses concurrent misses into one read", async () => {
    const { meta, reads, hold } = setUp();
    const release = hold();
    const answers = Promise.all([meta.facts(ID), meta.facts(ID), meta.facts(ID)]);
    release();
    expect((await answers).map((f) => f?.asset.id)).toEqual([ID, ID, ID]);
    expect(reads).toEqual([ID]);
  });

  it("drops an entry at once on a change made here, and announces it", async () => {
    const { meta, rows, grants, published } = setUp();
    await meta.facts(ID);
    grants.set(ID, []);
    rows.set(ID, { ...rows.get(ID), public: true });
    meta.changed(ID);
    const after = await meta.facts(ID);
    expect(after?.grants).toEqual([]);
    expect(after?.asset.public).toBe(true);
    expect(published).toEqual([`${ASSET_INVALIDATE_TOPIC} ${ID}`]);
  });

  it("drops an entry on a change announced by another process", async () => {
    const { meta, rows, reads } = setUp();
    await meta.facts(ID);
    rows.set(ID, { ...rows.get(ID), status: "quarantined" });
    meta.announced(ID);
    expect((await meta.facts(ID))?.asset.status).toBe("quarantined");
    expect(reads).toHaveLength(2);
  });

  it("never keeps what a read saw when the asset changed while it was in flight", async () => {
    const { meta, rows, reads, hold } = setUp();
    const release = hold();
    const racing = meta.facts(ID);
    // The change commits and is announced while the read is still out.
    rows.set(ID, { ...rows.get(ID), status: "deleted" });
    meta.changed(ID);
    release();
    expect((await racing)?.asset.status).toBe("ready");
    expect((await meta.facts(ID))?.asset.status).toBe("deleted");
    expect(reads).toHaveLength(2);
  });

  it("does not make a request after a change wait for a read that began before it", async () => {
    const { meta, rows, hold } = setUp();
    const release = hold();
    const racing = meta.facts(ID);
    rows.set(ID, { ...rows.get(ID), status: "deleted" });
    meta.announced(ID);
    const later = meta.facts(ID);
    release();
    expect((await racing)?.asset.status).toBe("ready");
    expect((await later)?.asset.status).toBe("deleted");
  });

  it("asks the database again once an entry's TTL has passed, announced or not", async () => {
    const { meta, rows, reads, advance } = setUp({ ttlMs: 1000 });
    await meta.facts(ID);
    rows.set(ID, { ...rows.get(ID), status: "quarantined" });
    advance(999);
    expect((await meta.facts(ID))?.asset.status).toBe("ready");
    advance(1);
    expect((await meta.facts(ID))?.asset.status).toBe("quarantined");
    expect(reads).toHaveLength(2);
  });

  it("drops everything after a gap in the announcements", async () => {
    const { meta, reads } = setUp();
    await meta.facts(ID);
    meta.forgetAll();
    await meta.facts(ID);
    expect(reads).toHaveLength(2);
  });

  it("keeps working when announcing fails", async () => {
    const { meta, reads } = setUp({ publish: async () => { throw new Error("redis is down"); } });
    await meta.facts(ID);
    expect(() => meta.changed(ID)).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    await meta.facts(ID);
    expect(reads).toHaveLength(2);
  });

  it("passes a failed read on and remembers nothing of it", async () => {
    const { meta, rows } = setUp();
    rows.set(ID, undefined as never);
    const broken = createAssetMeta({
      repos: { assets: { get: async () => { throw new Error("database down"); } }, acl: { list: async () => [] } },
      clock: { now: () => 0 }, broadcast: { publish: async () => {} }, metrics: noopMetrics, logger: silentLogger, maxEntries: 10, ttlMs: 1000,
    });
    await expect(broken.facts(ID)).rejects.toThrow("database down");
    expect(broken.counters().entries).toBe(0);
    expect(await meta.facts(ID)).toBeUndefined();
  });
});
