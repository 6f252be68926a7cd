import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { rawKey } from "../../src/domain/content-address.js";
import { AppError } from "../../src/domain/errors.js";
import type { BlobStore } from "../../src/ports/blob-store.js";
import { createFsStore } from "../../src/storage/fs/fs-store.js";
import { blobStoreContract } from "../contract/blob-store.contract.js";

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), "assetd-fs-store-"));
}

blobStoreContract("fs", async () => {
  const dir = await tempRoot();
  const store = await createFsStore(join(dir, "store"));
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe("fs store specifics", () => {
  let dir: string;
  let root: string;
  let store: BlobStore;
  const staged = () => readdir(join(root, ".staging"));

  beforeEach(async () => {
    dir = await tempRoot();
    root = join(dir, "nested", "store");
    store = await createFsStore(root);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates its root and staging directory", async () => {
    expect(await readdir(root)).toEqual([".staging"]);
  });

  describe("staging leaves no temp file behind", () => {
    it("when the body errors midway", async () => {
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent++ < 3) this.push(randomBytes(64 * 1024));
          else this.destroy(new Error("reset"));
        },
      });
      await expect(store.stage(body)).rejects.toThrow("reset");
      expect(await staged()).toEqual([]);
    });

    it("when the signal aborts midway or beforehand", async () => {
      const controller = new AbortController();
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent++ < 3) this.push(randomBytes(64 * 1024));
          else setImmediate(() => controller.abort());
        },
      });
      await expect(store.stage(body, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
      await expect(store.stage(Readable.from([Buffer.alloc(10)]), AbortSignal.abort())).rejects.toMatchObject({
        name: "AbortError",
      });
      expect(await staged()).toEqual([]);
    });

    it("when the disk fills, mapping ENOSPC to insufficient_storage", async () => {
      // The FileHandle class is not exported; reach its prototype through an instance.
      const probe = await open(join(dir, "probe"), "w");
      const proto = Object.getPrototypeOf(probe) as { write: unknown; writev: unknown };
      await probe.close();
      const enospc = () => Promise.reject(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
      vi.spyOn(proto as { write: () => Promise<never> }, "write").mockImplementation(enospc);
      vi.spyOn(proto as { writev: () => Promise<never> }, "writev").mockImplementation(enospc);

      const failure = store.stage(Readable.from([randomBytes(1000), randomBytes(1000)]));
      await expect(failure).rejects.toBeInstanceOf(AppError);
      await expect(failure).rejects.toMatchObject({ code: "insufficient_storage", status: 507 });
      expect(await staged()).toEqual([]);
    });

    it("after commit and after discard", async () => {
      await (await store.stage(Readable.from([Buffer.from("a")]))).commit(rawKey("a".repeat(64)));
      await (await store.stage(Readable.from([Buffer.from("b")]))).discard();
      expect(await staged()).toEqual([]);
    });
  });

  describe("commit and discard are idempotent", () => {
    it("repeats the first outcome and never deletes committed bytes", async () => {
      const key = rawKey("c".repeat(64));
      const object = await store.stage(Readable.from([Buffer.from("bytes")]));
      expect(await object.commit(key)).toBe("created");
      expect(await object.commit(key)).toBe("created");
      await object.discard();
      expect((await store.read(key)).toString()).toBe("bytes");
      await expect(object.commit(rawKey("d".repeat(64)))).rejects.toThrow(/already committed/);
    });

    it("refuses to commit discarded bytes", async () => {
      const object = await store.stage(Readable.from([Buffer.from("bytes")]));
      await object.discard();
      await object.discard();
      await expect(object.commit(rawKey("e".repeat(64)))).rejects.toThrow(/discarded/);
    });
  });

  describe("path-traversal guard", () => {
    const badKeys = [
      "",
      "../escape",
      "raw/../../escape",
      "raw/..",
      "/etc/passwd",
      "raw//ab",
      "raw/ab/",
      "raw/./ab",
      ".staging/x",
      "RAW/ab",
      "raw\\..\\escape",
      "raw/ab%2f..",
      "raw/ab\0",
      "raw/ ab",
    ];

    it.each(badKeys)("refuses key %j in every operation", async (key) => {
      const object = await store.stage(Readable.from([Buffer.from("x")]));
      await expect(object.commit(key)).rejects.toThrow(/invalid storage key/);
      await object.discard();
      await expect(store.put(key, Buffer.from("x"))).rejects.toThrow(/invalid storage key/);
      await expect(store.get(key)).rejects.toThrow(/invalid storage key/);
      await expect(store.read(key)).rejects.toThrow(/invalid storage key/);
      await expect(store.head(key)).rejects.toThrow(/invalid storage key/);
      await expect(store.delete(key)).rejects.toThrow(/invalid storage key/);
      await expect(store.adopt(key)).rejects.toThrow(/invalid storage key/);
      expect(() => store.localPath?.(key)).toThrow(/invalid storage key/);
      expect(await readdir(dir)).toEqual(["nested"]);
      expect(await staged()).toEqual([]);
    });

    it.each(["../", "/", "raw/../", ".staging/", "raw//"])("refuses list prefix %j", async (prefix) => {
      await expect(store.list(prefix)[Symbol.asyncIterator]().next()).rejects.toThrow(/invalid storage key/);
    });
  });

  it("removes stale staging files at startup and keeps recent ones", async () => {
    const stale = join(root, ".staging", "dead-process.part");
    const fresh = join(root, ".staging", "live-upload.part");
    await writeFile(stale, "left by a crash");
    await writeFile(fresh, "still being written");
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);

    await createFsStore(root);
    expect(await staged()).toEqual(["live-upload.part"]);
  });

  it("exposes the object's absolute local path", async () => {
    const key = rawKey("1".repeat(64));
    await store.put(key, Buffer.from("on disk"));
    const path = store.localPath?.(key);
    expect(path && isAbsolute(path)).toBe(true);
    expect(path).toBe(join(root, key));
    expect(await readFile(path!, "utf8")).toBe("on disk");
  });

  it("prunes emptied fan-out directories on delete", async () => {
    const key = rawKey("2".repeat(64));
    await store.put(key, Buffer.from("x"));
    await store.delete(key);
    expect((await readdir(root)).sort()).toEqual([".staging"]);
  });

  it("prunes the adopted source's emptied fan-out directories on commit", async () => {
    const source = "uploads/ab/cd/direct-upload";
    await store.put(source, Buffer.from("adopted"));
    const key = rawKey("4".repeat(64));
    expect(await (await store.adopt(source)).commit(key)).toBe("created");
    expect((await readdir(root)).sort()).toEqual([".staging", "raw"]);
    expect(await readFile(join(root, key), "utf8")).toBe("adopted");
    expect(await staged()).toEqual([]);
  });

  it("has no direct uploads (presign is false)", () => {
    expect(store.capabilities.presign).toBe(false);
    expect(store.direct).toBeUndefined();
  });

  it("keeps unrelated files out of listings", async () => {
    await mkdir(join(root, "raw"), { recursive: true });
    await writeFile(join(root, "raw", ".DS_Store"), "junk");
    await (await store.stage(Readable.from([Buffer.from("pending")]))).commit(rawKey("3".repeat(64)));
    const keys: string[] = [];
    for await (const { key } of store.list("")) keys.push(key);
    expect(keys).toEqual([rawKey("3".repeat(64))]);
  });

  it("fails ping when the root is gone", async () => {
    await store.ping();
    await rm(root, { recursive: true });
    await expect(store.ping()).rejects.toThrow();
  });
});
