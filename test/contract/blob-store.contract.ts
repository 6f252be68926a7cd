/**
 * The behaviour every BlobStore backend must show, exercised only through the port so the
 * same suite runs against the filesystem store, S3 and anything added later.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { rawKey, variantKey } from "../../src/domain/content-address.js";
import { BlobNotFoundError, type BlobStore } from "../../src/ports/blob-store.js";

export interface StoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** A stream of `bytes` in `chunkSize` pieces, as an HTTP request body would arrive. */
function chunked(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  function* pieces() {
    for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
  }
  return Readable.from(pieces(), { objectMode: false });
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

async function keysUnder(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys.sort();
}

/** Stages and commits `bytes` at the content address of `bytes`. */
async function ingest(store: BlobStore, bytes: Buffer, key = rawKey(sha256(bytes))) {
  const staged = await store.stage(chunked(bytes));
  return { key, outcome: await staged.commit(key) };
}

/** Emits `chunks` pieces of data, then fails like a client connection dropping midway. */
function failingBody(chunks: number, error: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < chunks) {
        sent++;
        this.push(randomBytes(16 * 1024));
      } else {
        this.destroy(error);
      }
    },
  });
}

/** Emits a few chunks, then aborts `controller` and stalls, as a cancelled request would. */
function bodyAbortingAfter(chunks: number, controller: AbortController): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < chunks) {
        sent++;
        this.push(randomBytes(16 * 1024));
      } else if (!controller.signal.aborted) {
        setImmediate(() => controller.abort());
      }
    },
  });
}

export function blobStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await store.close();
      await fixture.cleanup();
    });

    describe("stage and commit", () => {
      it("round-trips a multi-MB body streamed in chunks, byte for byte", async () => {
        const bytes = randomBytes(5 * 1024 * 1024 + 123);
        const staged = await store.stage(chunked(bytes));
        expect(staged.size).toBe(bytes.length);
        const key = rawKey(sha256(bytes));
        expect(await staged.commit(key)).toBe("created");

        const back = await collect(await store.get(key));
        expect(back.length).toBe(bytes.length);
        expect(sha256(back)).toBe(sha256(bytes));
        expect(await store.head(key)).toEqual({ key, size: bytes.length });
      });

      it("keeps the existing object when committing to a taken key", async () => {
        const original = randomBytes(10_000);
        const key = rawKey(sha256(original));
        expect((await ingest(store, original, key)).outcome).toBe("created");

        // Different bytes at the same key cannot happen with content addresses, which is
        // exactly why it shows that the first object is never overwritten.
        const intruder = randomBytes(20_000);
        const staged = await store.stage(chunked(intruder));
        expect(await staged.commit(key)).toBe("existed");

        expect(sha256(await store.read(key))).toBe(sha256(original));
        expect(await keysUnder(store, "")).toEqual([key]);
      });

      it("collapses 20 concurrent commits of the same content into one object", async () => {
        const bytes = randomBytes(256 * 1024);
        const key = rawKey(sha256(bytes));
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, async () => (await store.stage(chunked(bytes, 16 * 1024))).commit(key)),
        );
        expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
        expect(outcomes.filter((o) => o === "existed")).toHaveLength(19);
        expect(sha256(await store.read(key))).toBe(sha256(bytes));
        expect(await keysUnder(store, "")).toEqual([key]);
      });

      it("reads the staged bytes back before commit, and not after", async () => {
        const bytes = randomBytes(200_000);
        const staged = await store.stage(chunked(bytes));
        expect(sha256(await collect(await staged.read()))).toBe(sha256(bytes));
        expect(sha256(await collect(await staged.read()))).toBe(sha256(bytes));
        expect(await staged.commit(rawKey(sha256(bytes)))).toBe("created");
        await expect(staged.read()).rejects.toThrow(/committed or discarded/);
      });

      it("does not list staged bytes before commit, nor after discard", async () => {
        const staged = await store.stage(chunked(randomBytes(50_000)));
        expect(await keysUnder(store, "")).toEqual([]);
        await staged.discard();
        expect(await keysUnder(store, "")).toEqual([]);
      });

      it("rejects and keeps nothing when the body fails midway", async () => {
        const before = await keysUnder(store, "");
        const failure = new Error("client connection reset");
        await expect(store.stage(failingBody(4, failure))).rejects.toThrow("client connection reset");
        expect(await keysUnder(store, "")).toEqual(before);
      });

      it("rejects with AbortError and keeps nothing when the signal aborts midway", async () => {
        const controller = new AbortController();
        await expect(store.stage(bodyAbortingAfter(4, controller), controller.signal)).rejects.toMatchObject({
          name: "AbortError",
        });
        expect(await keysUnder(store, "")).toEqual([]);
      });

      it("rejects with AbortError when the signal is already aborted", async () => {
        const controller = new AbortController();
        controller.abort();
        await expect(store.stage(chunked(randomBytes(1000)), controller.signal)).rejects.toMatchObject({
          name: "AbortError",
        });
        expect(await keysUnder(store, "")).toEqual([]);
      });

      it("stores zero-byte objects", async () => {
        const empty = Buffer.alloc(0);
        const staged = await store.stage(Readable.from([]));
        expect(staged.size).toBe(0);
        const key = rawKey(sha256(empty));
        expect(await staged.commit(key)).toBe("created");
        expect(await store.head(key)).toEqual({ key, size: 0 });
        expect((await store.read(key)).length).toBe(0);
        expect((await collect(await store.get(key))).length).toBe(0);
      });
    });

    describe("adopt", () => {
      /** Where a client's direct upload would land: a committed object outside the content keys. */
      const uploadKey = (name: string) => `uploads/${name}`;

      it("moves the object to the target on commit and leaves no source", async () => {
        const bytes = randomBytes(300_000);
        const source = uploadKey("first");
        await store.put(source, bytes);

        const adopted = await store.adopt(source);
        expect(adopted.size).toBe(bytes.length);
        expect(sha256(await collect(await adopted.read()))).toBe(sha256(bytes));
        const key = rawKey(sha256(bytes));
        expect(await adopted.commit(key)).toBe("created");

        expect(sha256(await store.read(key))).toBe(sha256(bytes));
        expect(await store.head(key)).toEqual({ key, size: bytes.length });
        expect(await store.head(source)).toBeUndefined();
        await expect(store.read(source)).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await keysUnder(store, "")).toEqual([key]);
      });

      it("keeps the existing target and drops the source when the target is taken", async () => {
        const original = randomBytes(10_000);
        const { key } = await ingest(store, original);
        const source = uploadKey("duplicate");
        await store.put(source, randomBytes(20_000));

        const adopted = await store.adopt(source);
        expect(adopted.size).toBe(20_000);
        expect(await adopted.commit(key)).toBe("existed");

        expect(sha256(await store.read(key))).toBe(sha256(original));
        expect(await store.head(source)).toBeUndefined();
        expect(await keysUnder(store, "")).toEqual([key]);
      });

      it("deletes the source on discard", async () => {
        const source = uploadKey("rejected");
        await store.put(source, randomBytes(1000));
        const adopted = await store.adopt(source);
        await adopted.discard();
        await adopted.discard();
        expect(await store.head(source)).toBeUndefined();
        expect(await keysUnder(store, "")).toEqual([]);
        await expect(adopted.commit(rawKey("a".repeat(64)))).rejects.toThrow(/discarded/);
      });

      it("adopts zero-byte objects", async () => {
        const source = uploadKey("empty");
        await store.put(source, new Uint8Array(0));
        const adopted = await store.adopt(source);
        expect(adopted.size).toBe(0);
        const key = rawKey(sha256(Buffer.alloc(0)));
        expect(await adopted.commit(key)).toBe("created");
        expect(await store.head(key)).toEqual({ key, size: 0 });
        expect(await keysUnder(store, "")).toEqual([key]);
      });

      it("refuses to commit onto the source's own key, and the source can still be discarded", async () => {
        const source = uploadKey("self");
        await store.put(source, randomBytes(100));
        const adopted = await store.adopt(source);
        await expect(adopted.commit(source)).rejects.toThrow(/own key/);
        expect(await store.head(source)).toEqual({ key: source, size: 100 });
        await adopted.discard();
        expect(await keysUnder(store, "")).toEqual([]);
      });

      it("rejects a missing key, or a key prefix, with BlobNotFoundError", async () => {
        await expect(store.adopt(uploadKey("never-written"))).rejects.toBeInstanceOf(BlobNotFoundError);
        const { key } = await ingest(store, randomBytes(100));
        await expect(store.adopt(key.slice(0, key.lastIndexOf("/")))).rejects.toBeInstanceOf(BlobNotFoundError);
      });
    });

    describe("reads", () => {
      it("serves exact byte ranges (inclusive ends)", async () => {
        const bytes = randomBytes(100_000);
        const { key } = await ingest(store, bytes);
        const last = bytes.length - 1;
        const cases = [
          { start: 0, end: 0 },
          { start: 1000, end: 54_321 },
          { start: last, end: last },
          { start: 0, end: last },
        ];
        for (const range of cases) {
          const slice = await collect(await store.get(key, range));
          expect(slice.equals(bytes.subarray(range.start, range.end + 1)), `${range.start}-${range.end}`).toBe(true);
        }
      });

      it("rejects get and read of a missing key with BlobNotFoundError", async () => {
        const key = rawKey("0".repeat(64));
        await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(store.get(key, { start: 0, end: 10 })).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(store.read(key)).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await store.head(key)).toBeUndefined();
      });

      it("treats a key prefix of an object as missing, not as an object", async () => {
        const { key } = await ingest(store, randomBytes(100));
        const parent = key.slice(0, key.lastIndexOf("/"));
        await expect(store.get(parent)).rejects.toBeInstanceOf(BlobNotFoundError);
        await expect(store.read(parent)).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(await store.head(parent)).toBeUndefined();
      });

      it("reports the size with head", async () => {
        const bytes = randomBytes(12_345);
        const { key } = await ingest(store, bytes);
        expect(await store.head(key)).toEqual({ key, size: 12_345 });
      });
    });

    describe("delete", () => {
      it("removes the object, is idempotent, and spares its neighbours", async () => {
        // Two objects sharing every fan-out level.
        const key = variantKey(`abcd${"1".repeat(60)}`);
        const neighbour = variantKey(`abcd${"2".repeat(60)}`);
        await store.put(key, randomBytes(100));
        const neighbourBytes = randomBytes(200);
        await store.put(neighbour, neighbourBytes);

        await store.delete(key);
        expect(await store.head(key)).toBeUndefined();
        await expect(store.read(key)).rejects.toBeInstanceOf(BlobNotFoundError);
        await store.delete(key);
        await store.delete(rawKey("f".repeat(64)));

        expect((await store.read(neighbour)).equals(neighbourBytes)).toBe(true);
        expect(await keysUnder(store, "")).toEqual([neighbour]);
      });

      it("lets a deleted key be written again", async () => {
        const bytes = randomBytes(1000);
        const { key } = await ingest(store, bytes);
        await store.delete(key);
        expect((await ingest(store, bytes, key)).outcome).toBe("created");
        expect((await store.read(key)).equals(bytes)).toBe(true);
      });
    });

    describe("list", () => {
      it("returns exactly the committed keys under a prefix, with sizes", async () => {
        const raws = [`ab12${"0".repeat(60)}`, `ab34${"0".repeat(60)}`, `ac00${"0".repeat(60)}`, `ba00${"0".repeat(60)}`];
        for (const [i, hex] of raws.entries()) {
          await (await store.stage(chunked(randomBytes(i + 1)))).commit(rawKey(hex));
        }
        const variant = variantKey(`ab12${"9".repeat(60)}`);
        await store.put(variant, randomBytes(7));
        await (await store.stage(chunked(randomBytes(10)))).discard();

        const allRaw = raws.map(rawKey).sort();
        expect(await keysUnder(store, "")).toEqual([...allRaw, variant].sort());
        expect(await keysUnder(store, "raw/")).toEqual(allRaw);
        expect(await keysUnder(store, "raw/ab/")).toEqual(allRaw.slice(0, 2));
        expect(await keysUnder(store, "raw/a")).toEqual(allRaw.slice(0, 3));
        expect(await keysUnder(store, rawKey(raws[3]!))).toEqual([allRaw[3]]);
        expect(await keysUnder(store, "variants/")).toEqual([variant]);
        expect(await keysUnder(store, "nothing/here/")).toEqual([]);

        const sizes = new Map<string, number>();
        for await (const { key, size } of store.list("raw/")) sizes.set(key, size);
        expect(raws.map((hex) => sizes.get(rawKey(hex)))).toEqual([1, 2, 3, 4]);
      });
    });

    describe("put", () => {
      it("writes, then replaces, and read returns the newest bytes", async () => {
        const key = variantKey(sha256(Buffer.from("recipe")));
        const first = randomBytes(3000);
        const second = randomBytes(1000);
        await store.put(key, first);
        expect((await store.read(key)).equals(first)).toBe(true);
        await store.put(key, second);
        expect((await store.read(key)).equals(second)).toBe(true);
        expect(await store.head(key)).toEqual({ key, size: 1000 });
        expect(await keysUnder(store, "variants/")).toEqual([key]);
      });

      it("replaces atomically: concurrent readers see old or new bytes, never a mix", async () => {
        const key = variantKey(sha256(Buffer.from("hot variant")));
        const a = randomBytes(256 * 1024);
        const b = randomBytes(200 * 1024);
        await store.put(key, a);
        const valid = new Set([sha256(a), sha256(b)]);
        const writes = (async () => {
          for (let i = 0; i < 10; i++) await store.put(key, i % 2 === 0 ? b : a);
        })();
        const reads = Array.from({ length: 30 }, async () => sha256(await store.read(key)));
        const [, ...hashes] = await Promise.all([writes, ...reads]);
        for (const hash of hashes) expect(valid.has(hash)).toBe(true);
      });

      it("stores zero-byte objects", async () => {
        const key = variantKey(sha256(Buffer.from("empty")));
        await store.put(key, new Uint8Array(0));
        expect(await store.head(key)).toEqual({ key, size: 0 });
        expect((await store.read(key)).length).toBe(0);
      });
    });

    it("answers ping and declares its capabilities", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      for (const flag of ["presign", "multipart", "storageClasses"] as const) {
        expect(typeof store.capabilities[flag]).toBe("boolean");
      }
    });
  });
}
