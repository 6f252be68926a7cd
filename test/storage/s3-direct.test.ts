/**
 * Direct-to-store uploads (BlobStore.direct) against a real S3-protocol server (Swift +
 * s3api, see scripts/s3-test-server.sh), with plain `fetch` as the client, as a browser
 * would use the presigned URLs. Every store gets a fresh random prefix, emptied afterwards.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { CreateMultipartUploadCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

import { rawKey } from "../../src/domain/content-address.js";
import { AppError } from "../../src/domain/errors.js";
import type { PendingMultipart } from "../../src/ports/blob-store.js";
import { MIB } from "../../src/storage/s3/limits.js";
import { createS3Store, type S3BlobStore, type S3StoreOptions } from "../../src/storage/s3/s3-store.js";
import { sweepStaging } from "../../src/storage/s3/sweep.js";
import { emptyPrefix, findTestS3, multipartUploadsUnder, rawKeysUnder } from "../helpers/s3.js";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/** A PUT as a browser would send it: the body, and a Content-Type when given. */
function put(url: string, body: Uint8Array, contentType?: string): Promise<Response> {
  return fetch(url, { method: "PUT", body, headers: contentType ? { "content-type": contentType } : {} });
}

async function pending(store: S3BlobStore, prefix: string): Promise<PendingMultipart[]> {
  const uploads: PendingMultipart[] = [];
  for await (const upload of store.direct.listMultipart(prefix)) uploads.push(upload);
  return uploads;
}

const target = await findTestS3();

if (!target.available) {
  console.warn(`[s3-direct.test] ${target.reason}`);
  if (target.configured) {
    describe("s3 direct uploads", () => {
      it("reaches the server named by ASSETD_TEST_S3_URL", () => {
        throw new Error(target.reason);
      });
    });
  } else {
    describe.skip(`s3 direct uploads (skipped: ${target.reason})`, () => {
      it("needs an S3 server", () => {});
    });
  }
} else {
  const { options, admin } = target;
  const { bucket } = options;
  afterAll(() => admin.destroy());

  describe("s3 direct uploads", () => {
    let store: S3BlobStore;
    let prefix: string;

    async function useStore(extra: Partial<S3StoreOptions> = {}) {
      await store.close();
      store = await createS3Store({ ...options, prefix, ...extra });
      return store;
    }

    beforeEach(async () => {
      prefix = `assetd-tests/${randomUUID()}`;
      store = await createS3Store({ ...options, prefix });
    });
    afterEach(async () => {
      await store.close();
      await emptyPrefix(admin, bucket, `${prefix}/`);
    });

    it("is present exactly because the store presigns", () => {
      expect(store.capabilities.presign).toBe(true);
      expect(store.direct).toBeDefined();
    });

    describe("presigned PUT", () => {
      it("stores the body under the store prefix, with the signed Content-Type", async () => {
        const key = "uploads/single";
        const bytes = randomBytes(100_000);
        const url = await store.direct.presignPut(key, "image/png", bytes.length, 60);
        // No checksum is baked into the URL: a plain fetch carries none.
        expect(url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i);

        const response = await put(url, bytes, "image/png");
        expect(response.status).toBe(200);
        expect(response.headers.get("etag")).toBeTruthy();

        const stored = await store.read(key);
        expect(sha256(stored)).toBe(sha256(bytes));
        const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}` }));
        expect(head.ContentType).toBe("image/png");
      });

      it("is refused (403) with another Content-Type, or none, and stores nothing", async () => {
        const key = "uploads/typed";
        const url = await store.direct.presignPut(key, "image/png", 1000, 60);
        const other = await put(url, randomBytes(1000), "text/html");
        expect(other.status).toBe(403);
        expect(await other.text()).toContain("SignatureDoesNotMatch");
        const none = await put(url, randomBytes(1000));
        expect(none.status).toBe(403);
        // The size is signed too: a session cannot park more bytes than it declared.
        const bigger = await put(url, randomBytes(5000), "image/png");
        expect(bigger.status).toBe(403);
        expect(await store.head(key)).toBeUndefined();
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
      });

      it("is refused (403) once expired, and stores nothing", async () => {
        const key = "uploads/late";
        const url = await store.direct.presignPut(key, "application/pdf", 1000, 1);
        // X-Amz-Date has whole seconds: wait past the second after it as well.
        await sleep(2_500);
        const response = await put(url, randomBytes(1000), "application/pdf");
        expect(response.status).toBe(403);
        expect(await store.head(key)).toBeUndefined();
      });

      it("lands where adopt can pick it up and commit it to its content key", async () => {
        const source = "uploads/adopt-me";
        const bytes = randomBytes(50_000);
        expect((await put(await store.direct.presignPut(source, "video/mp4", bytes.length, 60), bytes, "video/mp4")).status).toBe(200);

        const adopted = await store.adopt(source);
        expect(adopted.size).toBe(bytes.length);
        const key = rawKey(sha256(bytes));
        expect(await adopted.commit(key)).toBe("created");
        expect(sha256(await store.read(key))).toBe(sha256(bytes));
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([`${prefix}/${key}`]);
      });

      it("commits nothing when a late PUT replaces the object after adopt (state_conflict)", async () => {
        const source = "uploads/swapped";
        const url = await store.direct.presignPut(source, "image/png", 10_000, 60);
        const honest = randomBytes(10_000);
        expect((await put(url, honest, "image/png")).status).toBe(200);
        const adopted = await store.adopt(source);

        // The URL is still valid: its holder overwrites the bytes the service is about to commit.
        expect((await put(url, randomBytes(10_000), "image/png")).status).toBe(200);
        await expect(adopted.read()).rejects.toMatchObject({ code: "state_conflict" });
        const key = rawKey(sha256(honest));
        await expect(adopted.commit(key)).rejects.toMatchObject({ code: "state_conflict" });
        expect(await store.head(key)).toBeUndefined();
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
      });

      it("checks keys, types and lifetimes before signing", async () => {
        await expect(store.direct.presignPut("../escape", "image/png", 1, 60)).rejects.toThrow(/invalid storage key/);
        await expect(store.direct.presignPut(".staging/x", "image/png", 1, 60)).rejects.toThrow(/invalid storage key/);
        await expect(store.direct.presignPut("uploads/x", "image/png\r\nx-evil: 1", 1, 60)).rejects.toMatchObject({
          code: "invalid_parameter",
        });
        await expect(store.direct.presignPut("uploads/x", "image/png", 1, 0)).rejects.toThrow(RangeError);
        await expect(store.direct.presignPut("uploads/x", "image/png", 1, 8 * 24 * 3600)).rejects.toThrow(RangeError);
        await expect(store.direct.presignPut("uploads/x", "image/png", -1, 60)).rejects.toThrow(RangeError);
        await expect(store.direct.presignPut("uploads/x", "image/png", 6 * 1024 ** 3, 60)).rejects.toThrow(RangeError);
      });
    });

    describe("multipart", () => {
      it("joins parts PUT with fetch into the object, listing them on the way", async () => {
        // Pages of one: ListParts and ListMultipartUploads must follow their markers.
        await useStore({ listPageSize: 1 });
        const key = "uploads/multi";
        const first = randomBytes(5 * MIB);
        const second = randomBytes(1024);
        const uploadId = await store.direct.createMultipart(key, "video/mp4");

        const etags: string[] = [];
        for (const [index, bytes] of [first, second].entries()) {
          const url = await store.direct.presignPart(key, uploadId, index + 1, bytes.length, 60);
          expect(url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i);
          const response = await put(url, bytes);
          expect(response.status).toBe(200);
          const etag = response.headers.get("etag");
          expect(etag).toBeTruthy();
          etags.push(etag!);
        }

        const parts = await store.direct.listParts(key, uploadId);
        expect(parts.map(({ partNumber, size }) => ({ partNumber, size }))).toEqual([
          { partNumber: 1, size: first.length },
          { partNumber: 2, size: second.length },
        ]);
        expect(parts.map((p) => p.etag.replace(/"/g, ""))).toEqual(etags.map((e) => e.replace(/"/g, "")));

        // Given in the order the parts happened to finish.
        await store.direct.completeMultipart(key, uploadId, [
          { partNumber: 2, etag: etags[1]! },
          { partNumber: 1, etag: etags[0]! },
        ]);
        const stored = await store.read(key);
        expect(sha256(stored)).toBe(sha256(Buffer.concat([first, second])));
        const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}` }));
        expect(head.ContentType).toBe("video/mp4");
        expect(await pending(store, "")).toEqual([]);

        // Once its object has been adopted, the upload is gone. (Until then Swift still
        // answers for it: it finds the upload through the object's upload-id metadata, and
        // a repeated complete succeeds.) A multipart ETag pins the copy like any other.
        const contentKey = rawKey(sha256(stored));
        const adopted = await store.adopt(key);
        expect(sha256(await collect(await adopted.read()))).toBe(sha256(stored));
        expect(await adopted.commit(contentKey)).toBe("created");
        await expect(store.direct.completeMultipart(key, uploadId, [{ partNumber: 1, etag: etags[0]! }])).rejects.toMatchObject({
          code: "not_found",
        });
        await expect(store.direct.listParts(key, uploadId)).rejects.toMatchObject({ code: "not_found" });
        expect(sha256(await store.read(contentKey))).toBe(sha256(stored));
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([`${prefix}/${contentKey}`]);
      });

      it("refuses to complete with a wrong ETag or a too-small part (invalid_parameter)", async () => {
        const key = "uploads/wrong";
        const uploadId = await store.direct.createMultipart(key, "application/octet-stream");
        const etags: string[] = [];
        for (const partNumber of [1, 2]) {
          const response = await put(await store.direct.presignPart(key, uploadId, partNumber, 1024, 60), randomBytes(1024));
          expect(response.status).toBe(200);
          etags.push(response.headers.get("etag")!);
        }

        const wrong = store.direct.completeMultipart(key, uploadId, [{ partNumber: 1, etag: `"${"0".repeat(32)}"` }]);
        await expect(wrong).rejects.toBeInstanceOf(AppError);
        await expect(wrong).rejects.toMatchObject({ code: "invalid_parameter", message: /ETag/ });

        // Two 1 KiB parts: every part but the last must be at least 5 MiB.
        await expect(
          store.direct.completeMultipart(key, uploadId, [
            { partNumber: 1, etag: etags[0]! },
            { partNumber: 2, etag: etags[1]! },
          ]),
        ).rejects.toMatchObject({ code: "invalid_parameter", message: /5 MiB/ });

        await expect(store.direct.completeMultipart(key, uploadId, [])).rejects.toMatchObject({ code: "invalid_parameter" });
        await expect(store.direct.presignPart(key, uploadId, 0, 1, 60)).rejects.toMatchObject({ code: "invalid_parameter" });
        expect(await store.head(key)).toBeUndefined();
        await store.direct.abortMultipart(key, uploadId);
      });

      it("aborts idempotently, and an aborted upload is gone", async () => {
        const key = "uploads/abandoned";
        const uploadId = await store.direct.createMultipart(key, "image/jpeg");
        expect((await put(await store.direct.presignPart(key, uploadId, 1, 2048, 60), randomBytes(2048))).status).toBe(200);
        expect((await pending(store, "uploads/")).map((u) => u.uploadId)).toEqual([uploadId]);

        await store.direct.abortMultipart(key, uploadId);
        await store.direct.abortMultipart(key, uploadId);
        await store.direct.abortMultipart(key, "no-such-upload");

        expect(await pending(store, "uploads/")).toEqual([]);
        expect(await multipartUploadsUnder(admin, bucket, `${prefix}/`)).toEqual([]);
        await expect(store.direct.listParts(key, uploadId)).rejects.toMatchObject({ code: "not_found" });
        await expect(store.direct.completeMultipart(key, uploadId, [{ partNumber: 1, etag: '"x"' }])).rejects.toMatchObject({
          code: "not_found",
        });
        expect(await rawKeysUnder(admin, bucket, `${prefix}/`)).toEqual([]);
      });

      it("lists fresh uploads under a prefix as store keys, not the store's own staging uploads", async () => {
        await useStore({ listPageSize: 2 });
        const before = Date.now();
        const keys = ["uploads/a/one", "uploads/a/two", "uploads/a/three", "uploads/b/four"];
        const ids = new Map<string, string>();
        for (const key of keys) ids.set(key, await store.direct.createMultipart(key, "image/png"));
        // An upload of stage() in progress: internal, owned by the staging sweep.
        await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}/.staging/in-flight` }));

        const underA = await pending(store, "uploads/a/");
        expect(underA.map((u) => u.key).sort()).toEqual(["uploads/a/one", "uploads/a/three", "uploads/a/two"]);
        for (const upload of underA) {
          expect(upload.uploadId).toBe(ids.get(upload.key));
          // Swift's timestamps have whole seconds.
          expect(upload.initiatedAt).toBeGreaterThan(before - 2_000);
          expect(upload.initiatedAt).toBeLessThan(Date.now() + 2_000);
        }
        expect((await pending(store, "")).map((u) => u.key).sort()).toEqual([...keys].sort());
        expect(await pending(store, "uploads/c/")).toEqual([]);
        await expect(pending(store, ".staging/")).rejects.toThrow(/invalid storage key/);

        // The staging sweep, even long after, leaves uploads outside .staging/ alone.
        const later = Date.now() + 48 * 60 * 60 * 1000;
        expect(
          await sweepStaging(admin, { bucket, stagingPrefix: `${prefix}/.staging/`, objectMaxAgeMs: 0, uploadMaxAgeMs: 0, now: later }),
        ).toEqual({ objects: 0, uploads: 1 });
        expect((await pending(store, "")).map((u) => u.key).sort()).toEqual([...keys].sort());
      });
    });
  });
}
