import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createRepos } from "../../src/db/repos.js";
import { rawKey } from "../../src/domain/content-address.js";
import { newAssetId } from "../../src/domain/ids.js";
import type { Repos } from "../../src/ports/repos.js";
import { ASSET_WRITES, withAssetInvalidation } from "../../src/services/asset-invalidation.js";
import { createTestDatabase, type TestDatabase } from "./databases.js";

/**
 * The hot-metadata cache is only as good as its invalidations: every repository write to
 * an asset's row or grants must announce the asset once it is committed. These tests hold
 * the repositories to the table in services/asset-invalidation.ts, so that a new write
 * cannot slip past it unnoticed.
 */

/** Methods that only read, or write nothing delivery reads of an asset. */
const NOT_ASSET_WRITES = {
  assets: ["get", "list", "events", "similar", "heldBy"],
  acl: ["list", "permissionsOf"],
  trash: ["inTrash", "expired"],
  uploads: ["get", "expired"],
  repos: ["stats", "ping", "close"],
} as const;

/** The only files allowed to write `asset` or `asset_acl` rows; each write is behind a method of ASSET_WRITES. */
const WRITERS = ["src/db/repos/acl.ts", "src/db/repos/assets.ts", "src/db/repos/ingest.ts", "src/db/repos/trash.ts", "src/db/repos/uploads.ts"];

const at = 1_700_000_000_000;
const functionsOf = (value: object) => Object.entries(value).filter(([, v]) => typeof v === "function").map(([k]) => k).sort();

describe("invalidation of asset writes", () => {
  let database: TestDatabase;
  let raw: Repos;
  let repos: Repos;
  let seen: Array<{ id: string; status: string | undefined; public: boolean | undefined; grants: number }>;

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    raw = createRepos(database.handle.db, "sqlite");
    // What the database holds when `changed` runs: it must already see the write.
    repos = withAssetInvalidation(raw, (id) => {
      pending.push((async () => {
        const row = await raw.assets.get(id, { tags: false });
        seen.push({ id, status: row?.status, public: row?.public, grants: (await raw.acl.list(id)).length });
      })());
    });
  });
  afterAll(async () => database?.dispose());
  let pending: Promise<void>[] = [];
  beforeEach(async () => {
    await database.reset();
    seen = [];
    pending = [];
  });
  const settled = async () => {
    await Promise.all(pending);
    return seen;
  };

  async function ingested(): Promise<string> {
    const sha256 = randomBytes(32).toString("hex");
    const { asset } = await repos.recordIngest({
      blob: { sha256, size: 10, storageKey: rawKey(sha256), sniffedType: "image/png", at },
      asset: {
        id: newAssetId(at), owner: "alice", filename: "a.png", declaredType: "image/png", contentType: "image/png",
        kind: "image", size: 10, public: false, tags: {}, createdAt: at,
      },
      events: [{ from: null, to: "verified", reason: "hash verified", at }],
      quota: { reserved: 0, defaultMaxBytes: null },
    });
    return asset.id;
  }

  it("classifies every method of the repositories that hold asset rows and grants", () => {
    for (const group of ["assets", "acl", "trash", "uploads"] as const) {
      const known = [...Object.keys(ASSET_WRITES[group]), ...NOT_ASSET_WRITES[group]].sort();
      expect(functionsOf(raw[group]), `repos.${group}: list a new method in ASSET_WRITES or NOT_ASSET_WRITES`).toEqual(known);
    }
    expect(functionsOf(raw)).toEqual([...Object.keys(ASSET_WRITES.repos), ...NOT_ASSET_WRITES.repos].sort());
  });

  it("finds writes to asset and asset_acl only in the files whose methods are watched", async () => {
    const root = join(import.meta.dirname, "../..");
    const files = (await readdir(join(root, "src"), { recursive: true })).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    const writers: string[] = [];
    for (const file of files) {
      if (file.startsWith("db/migrations/")) continue;
      const text = await readFile(join(root, "src", file), "utf8");
      if (/(updateTable|insertInto|deleteFrom)\(\s*"asset(_acl)?"\s*\)|(update|insert\s+into|delete\s+from)\s+"?asset(_acl)?"?\s/i.test(text)) {
        writers.push(relative(root, join(root, "src", file)));
      }
    }
    expect(writers.sort()).toEqual(WRITERS);
  });

  it("announces each write after it is committed, with the asset's id", async () => {
    const id = await ingested();
    // Each write's announcement is checked before the next write starts.
    const writes: Array<() => Promise<unknown>> = [
      () => repos.assets.transition(id, { from: "verified", to: "ready", reason: "extracted", at }),
      () => repos.assets.patch(id, { public: true, at }),
      () => repos.acl.add(id, { principal: "bob", permission: "read" }, at),
      () => repos.acl.remove(id, { principal: "bob", permission: "read" }, at),
      () => repos.acl.replace(id, [], at),
      () => repos.assets.replaceMeta(id, "ready", { width: 1 }, at),
      () => repos.softDelete(id, "ready", "deleted", at),
      () => repos.trash.restore(id, "restored", at, null),
      () => repos.softDelete(id, "ready", "deleted", at),
      () => repos.trash.purge(id, "purged", at),
    ];
    for (const write of writes) {
      await write();
      await settled();
    }
    const states = seen.map(({ status, public: isPublic, grants }) => `${status}/${isPublic}/${grants}`);
    expect(states).toEqual([
      "verified/false/0", // recordIngest
      "ready/false/0", "ready/true/1", "ready/true/2", "ready/true/1", "ready/false/0", "ready/false/0",
      "deleted/false/0", "ready/false/0", "deleted/false/0", "deleted/false/0",
    ]);
    expect(new Set(seen.map((s) => s.id))).toEqual(new Set([id]));
  });

  it("announces a write that lost its race too (a needless re-read, never a stale entry)", async () => {
    const id = await ingested();
    expect(await repos.assets.transition(id, { from: "ready", to: "quarantined", reason: "lost race", at })).toBeUndefined();
    expect((await settled()).map((s) => s.status)).toEqual(["verified", "verified"]);
  });

  it("keeps every read as it was", async () => {
    const id = await ingested();
    expect(seen).toHaveLength(0);
    expect((await repos.assets.get(id))?.id).toBe(id);
    expect(await repos.acl.list(id)).toEqual([]);
    expect(await repos.trash.inTrash(id)).toBe(false);
    await settled();
    expect(seen).toHaveLength(1);
  });
});
