/**
 * The S3 store against a real S3-protocol server (Swift + s3api, see
 * scripts/s3-test-server.sh): the shared BlobStore contract, then what only S3 has.
 * Every store gets a fresh random prefix in the bucket, emptied afterwards.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

import { rawKey, variantKey } from "../../src/domain/content-address.js";
import { AppError } from "../../src/domain/errors.js";
import { copyObject } from "../../src/storage/s3/copy.js";
import { MIB } from "../../src/storage/s3/limits.js";
import { createS3Store, type S3BlobStore, type S3StoreOptions } from "../../src/storage/s3/s3-store.js";
import { sweepStaging } from "../../src/storage/s3/sweep.js";
import { blobStoreContract } from "../contract/blob-store.contract.js";
import { emptyPrefix, findTestS3, multipartUploadsUnder, rawKeysUnder } from "../helpers/s3.js";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** `total` random bytes as a stream of `chunk`-sized pieces, never all in memory at once. */
function randomStream(total: number, chunk = 256 * 1024, onChunk?: (sent: number) => Promise<void> | void) {
  const hash = createHash("sha256");
  let sent = 0;
  const stream = Readable.from(
    (async function* () {
      while (sent < total) {
        const piece = randomBytes(Math.min(chunk, total - sent));
        hash.update(piece);
        sent += piece.length;
        yield piece;
        await onChunk?.(sent);
      }
    })(),
    { objectMode: false },
  );
  return { stream, digest: () => hash.digest("hex") };
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

const target = await findTestS3();

describe("s3 store without a server", () => {
  it("reports an unreachable endpoint as dependency_down (503)", async () => {
    const store = await createS3Store({
      bucket: "assetd-test",
      endpoint: "http://127.0.0.1:1",
      accessKeyId: "x",
      secretAccessKey: "y",
    });
    try {
      await expect(store.ping()).rejects.toMatchObject({ code: "dependency_down", status: 503 });
      await expect(store.get(rawKey("a".repeat(64)))).rejects.toMatchObject({ code: "dependency_down" });
      await expect(store.head(rawKey("a".repeat(64)))).rejects.toBeInstanceOf(AppError);
      await expect(store.stage(Readable.from([Buffer.from("x")]))).rejects.toMatchObject({ code: "dependency_down" });
    } finally {
      await store.close();
    }
  });

  it("refuses bad options", async () => {
    await expect(createS3Store({ bucket: "b", partSize: 1024 })).rejects.toThrow(/partSize/);
    await expect(createS3Store({ bucket: "b", prefix: "a/../b" })).rejects.toThrow(/prefix/);
    await expect(createS3Store({ bucket: "b", accessKeyId: "only-half" })).rejects.toThrow(/secretAccessKey/);
  });
});

if (!target.available) {
  console.warn(`[s3-store.test] ${target.reason}`);
  if (target.configured) {
    describe("s3 store", () => {
      it("reaches the server named by ASSETD_TEST_S3_URL", () => {
        throw new Error(target.reason);
      });
    });
  } else {
    describe.skip(`s3 store (skipped: ${target.reason})`, () => {
      it("needs an S3 server", () => {});
    });
  }
} else {
  const { options, admin } = target;
  const { bucket } = options;
  afterAll(() => admin.destroy());

  /** A store under a fresh prefix, and that prefix's clean-up. */
  async function freshStore(extra: Partial<S3StoreOptions> = {}) {
    const prefix = `assetd-tests/${randomUUID()}`;
    const store = await createS3Store({ ...options, prefix, ...extra });
    return { store, prefix, cleanup: () => emptyPrefix(admin, bucket, `${prefix}/`) };
  }

  blobStoreContract("s3", async () => {
    const { store, cleanup } = await freshStore();
    return { store, cleanup };
  });

  describe("s3 store specifics", () => {
    let store: S3BlobStore;
    let prefix: string;
    let cleanup: () => Promise<void>;

    async function useStore(extra: Partial<S3StoreOptions> = {}) {
      await store.close();
      await cleanup();
      ({ store, prefix, cleanup } = await freshStore(extra));
      return store;
    }

    beforeEach(async () => {
      ({ store, prefix, cleanup } = await freshStore());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it("declares presign and multipart, not storage classes", () => {
      expect(store.capabilities).toEqual({ presign: true, multipart: true, storageClasses: false });
      expect(store.direct).toBeDefined();
    });

    it("keeps objects at <prefix>/<key> and only there", async () => {
      const key = variantKey(sha256(Buffer.from("where")));
      await store.put(key, Buffer.from("here"));
      expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([`${prefix}/${key}`]);
      const { Body } = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}` }));
      expect(await Body!.transformToString()).toBe("here");
    });

    it("streams a 40 MB body as a multipart upload and round-trips it by sha256", async () => {
      const size = 40 * 1000 * 1000;
      const { stream, digest } = randomStream(size);
      const staged = await store.stage(stream);
      expect(staged.size).toBe(size);

      // Multipart ETags end in -<parts>: 40 MB in 8 MiB parts is 5 parts.
      const [stagingKey, ...others] = await rawKeysUnder(admin, bucket, `${prefix}/.staging/`);
      expect(others).toEqual([]);
      const { ETag } = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: stagingKey }));
      expect(ETag).toMatch(/-5"?$/);

      const hex = digest();
      const key = rawKey(hex);
      expect(await staged.commit(key)).toBe("created");
      expect(await store.head(key)).toEqual({ key, size });
      expect(sha256(await collect(await store.get(key)))).toBe(hex);
      // A range across a part boundary (8 MiB) of the multipart original.
      const slice = await collect(await store.get(key, { start: 8 * MIB - 10, end: 8 * MIB + 9 }));
      expect(slice.length).toBe(20);

      expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([`${prefix}/${key}`]);
      expect(await multipartUploadsUnder(admin, bucket, `${prefix}/`)).toEqual([]);
    });

    it("sends a body up to multipartThreshold in one PutObject", async () => {
      await useStore({ partSize: 5 * MIB, multipartThreshold: 6 * MIB });
      const { stream } = randomStream(6 * MIB);
      const staged = await store.stage(stream);
      const [stagingKey] = await rawKeysUnder(admin, bucket, `${prefix}/.staging/`);
      const { ETag } = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: stagingKey }));
      expect(ETag).not.toMatch(/-\d+"?$/);
      await staged.discard();
      expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
    });

    describe("a failed multipart stage leaves no upload and no staging object", () => {
      /**
       * Streams until the multipart upload is visible in ListMultipartUploads (so parts
       * really were uploaded), then fails the body via `fail`.
       */
      function bodyFailingMidUpload(fail: (stream: Readable) => void) {
        let seen = false;
        const { stream } = randomStream(64 * MIB, 512 * 1024, async (sent) => {
          if (seen || sent < 12 * MIB) return;
          for (let i = 0; i < 100 && !seen; i++) {
            seen = (await multipartUploadsUnder(admin, bucket, `${prefix}/.staging/`)).length > 0;
            if (!seen) await new Promise((r) => setTimeout(r, 50));
          }
          fail(stream);
        });
        return { stream, sawUpload: () => seen };
      }

      beforeEach(async () => {
        await useStore({ partSize: 5 * MIB });
      });

      it("when the signal aborts", async () => {
        const controller = new AbortController();
        const { stream, sawUpload } = bodyFailingMidUpload(() => controller.abort());
        await expect(store.stage(stream, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
        expect(sawUpload()).toBe(true);
        expect(await multipartUploadsUnder(admin, bucket, `${prefix}/`)).toEqual([]);
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
      });

      it("when the body errors", async () => {
        const { stream, sawUpload } = bodyFailingMidUpload((s) => s.destroy(new Error("client connection reset")));
        await expect(store.stage(stream)).rejects.toThrow("client connection reset");
        expect(sawUpload()).toBe(true);
        expect(await multipartUploadsUnder(admin, bucket, `${prefix}/`)).toEqual([]);
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
      });
    });

    it("paginates listings (ListObjectsV2 continuation tokens)", async () => {
      await useStore({ listPageSize: 2 });
      const keys = Array.from({ length: 7 }, (_, i) => rawKey(sha256(Buffer.from(`page ${i}`))));
      for (const key of keys) await store.put(key, Buffer.from(key));
      // A staged object and a foreign "folder marker" under the prefix: neither is listed.
      const staged = await store.stage(Readable.from([Buffer.from("pending")]));
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/raw/`, Body: new Uint8Array(0), ContentLength: 0 }));

      const listed: string[] = [];
      for await (const { key, size } of store.list("")) {
        listed.push(key);
        expect(size).toBe(Buffer.byteLength(key));
      }
      expect(listed.sort()).toEqual([...keys].sort());
      await staged.discard();
    });

    it("presigns GET and PUT URLs that work without credentials", async () => {
      const key = variantKey(sha256(Buffer.from("presigned")));
      const putUrl = await store.presign("PUT", key, 60);
      const put = await fetch(putUrl, { method: "PUT", body: Buffer.from("uploaded directly") });
      expect(put.status).toBe(200);

      const getUrl = await store.presign("GET", key, 60);
      const got = await fetch(getUrl);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe("uploaded directly");
      await expect(store.presign("GET", "../escape", 60)).rejects.toThrow(/invalid storage key/);
    });

    it("copies part by part above the single-copy limit (UploadPartCopy)", async () => {
      const bytes = randomBytes(12 * MIB + 7);
      const from = `${prefix}/.staging/big`;
      const to = `${prefix}/${rawKey(sha256(bytes))}`;
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: from, Body: bytes }));
      await copyObject(admin, { bucket, from, to, size: bytes.length, singleCopyLimit: 0, partSize: 5 * MIB });
      const { Body, ETag } = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: to }));
      expect(ETag).toMatch(/-3"?$/);
      expect(sha256(await Body!.transformToByteArray())).toBe(sha256(bytes));
      expect(await multipartUploadsUnder(admin, bucket, `${prefix}/`)).toEqual([]);
    });

    it("sweeps stale staged objects and abandoned multipart uploads", async () => {
      const stagingPrefix = `${prefix}/.staging/`;
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `${stagingPrefix}dead`, Body: "left by a crash" }));
      await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${stagingPrefix}dead-upload` }));
      const request = { bucket, stagingPrefix, objectMaxAgeMs: 60 * 60 * 1000, uploadMaxAgeMs: 24 * 60 * 60 * 1000 };

      expect(await sweepStaging(admin, request)).toEqual({ objects: 0, uploads: 0 });
      const later = Date.now() + 25 * 60 * 60 * 1000;
      expect(await sweepStaging(admin, { ...request, now: later })).toEqual({ objects: 1, uploads: 1 });
      expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
      expect(await multipartUploadsUnder(admin, bucket, `${prefix}/`)).toEqual([]);
    });

    it("keeps one copy when two stores (as two processes would) commit the same content", async () => {
      const other = await createS3Store({ ...options, prefix });
      try {
        const bytes = randomBytes(100_000);
        const key = rawKey(sha256(bytes));
        const outcomes = await Promise.all(
          [store, other, store, other].map(async (s) => (await s.stage(Readable.from([bytes]))).commit(key)),
        );
        // Within a process exactly one "created"; across processes both may copy, harmlessly.
        expect(outcomes).toContain("created");
        expect(sha256(await store.read(key))).toBe(sha256(bytes));
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([`${prefix}/${key}`]);
      } finally {
        await other.close();
      }
    });

    it.each(["", "../escape", "/etc/passwd", "raw//ab", "raw/ab/", ".staging/x", "RAW/ab", "raw/ ab"])(
      "refuses key %j",
      async (key) => {
        const staged = await store.stage(Readable.from([Buffer.from("x")]));
        await expect(staged.commit(key)).rejects.toThrow(/invalid storage key/);
        await staged.discard();
        await expect(store.put(key, Buffer.from("x"))).rejects.toThrow(/invalid storage key/);
        await expect(store.get(key)).rejects.toThrow(/invalid storage key/);
        await expect(store.read(key)).rejects.toThrow(/invalid storage key/);
        await expect(store.head(key)).rejects.toThrow(/invalid storage key/);
        await expect(store.delete(key)).rejects.toThrow(/invalid storage key/);
        await expect(store.adopt(key)).rejects.toThrow(/invalid storage key/);
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
      },
    );

    it("reports a full store (a quota) as insufficient_storage (507)", async (context) => {
      // scripts/s3-test-server.sh makes "<bucket>-full" with a 1 KiB Swift container quota.
      const full = await createS3Store({ ...options, bucket: `${bucket}-full`, prefix });
      try {
        try {
          await full.ping();
        } catch {
          context.skip(`no quota-limited bucket '${bucket}-full' on this server`);
        }
        const key = variantKey(sha256(Buffer.from("too big")));
        await expect(full.put(key, randomBytes(4096))).rejects.toMatchObject({ code: "insufficient_storage", status: 507 });
        await expect(full.stage(Readable.from([randomBytes(4096)]))).rejects.toMatchObject({ code: "insufficient_storage" });
        expect(await rawKeysUnder(admin, `${bucket}-full`, `${prefix}/`)).toEqual([]);
      } finally {
        await full.close();
      }
    });

    it("answers ping, and fails it for a missing bucket", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      const missing = await createS3Store({ ...options, bucket: `missing-${randomUUID().slice(0, 8)}` });
      try {
        await expect(missing.ping()).rejects.toMatchObject({ code: "dependency_down" });
      } finally {
        await missing.close();
      }
    });
  });
}

