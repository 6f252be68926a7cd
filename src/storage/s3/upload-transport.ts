import { AppError, NotFoundError, isAppError } from "../../domain/errors.js";
import { UPLOAD_AREA, expectedPartSize, uploadOwnerOf } from "../../domain/upload-plan.js";
import type { UploadedPart } from "../../ports/blob-store.js";
import type { UploadLeftover, UploadTransport } from "../../ports/upload-transport.js";
import { adoptReceived, clearFolder, objectLeftovers, objectsReceived, requireAllParts } from "../upload-area.js";
import type { S3BlobStore } from "./s3-store.js";

/**
 * Uploads straight to the bucket: presigned SigV4 URLs for a single PUT (bound to the
 * session's Content-Type and size) or for the parts of an S3 multipart upload, which the
 * store joins at completion. This service never sees the bytes until it hashes them.
 */
export function createPresignedUploadTransport(store: S3BlobStore): UploadTransport {
  const { direct } = store;

  return {
    async begin(session) {
      return session.kind === "multipart" ? direct.createMultipart(session.stagingKey, session.contentType) : null;
    },

    async url(session, target, validity) {
      if (target === "data") return direct.presignPut(session.stagingKey, session.contentType, session.expectedSize, validity.ttlSeconds);
      const size = expectedPartSize(target, session.partSize!, session.expectedSize);
      return direct.presignPart(session.stagingKey, session.multipartId!, target, size, validity.ttlSeconds);
    },

    accept() {
      // The bucket takes the PUTs: this service hands out no upload URLs of its own.
      throw new NotFoundError("upload");
    },

    async received(session) {
      if (session.kind === "multipart" && session.multipartId) return direct.listParts(session.stagingKey, session.multipartId);
      return objectsReceived(store, session);
    },

    async assemble(session, claimed) {
      if (session.kind === "multipart" && session.multipartId) {
        const have = await direct.listParts(session.stagingKey, session.multipartId).catch((error: unknown) => {
          if (isAppError(error) && error.code === "not_found") return undefined; // completed by an earlier attempt
          throw error;
        });
        if (have) {
          requireAllParts(have, session);
          if (claimed) checkClaimedParts(claimed, have);
          // Always the listed parts: completing with fewer would drop (and orphan) the rest.
          await direct.completeMultipart(session.stagingKey, session.multipartId, have);
        }
      }
      return { staged: await adoptReceived(store, session.stagingKey) };
    },

    async clear(session) {
      if (session.multipartId) await direct.abortMultipart(session.stagingKey, session.multipartId);
      await clearFolder(store, session.assetId);
    },

    async *leftovers(before) {
      yield* objectLeftovers(store, before);
      for await (const pending of direct.listMultipart(UPLOAD_AREA)) {
        if (pending.initiatedAt > before) continue;
        const leftover: UploadLeftover = {
          assetId: uploadOwnerOf(pending.key), kind: "multipart",
          remove: () => direct.abortMultipart(pending.key, pending.uploadId),
        };
        yield leftover;
      }
    },
  };
}

/**
 * The client's list of parts (from the PUT responses) must be what the store holds: the
 * same part numbers with the same ETags, else an earlier or concurrent PUT replaced one.
 */
function checkClaimedParts(claimed: ReadonlyArray<{ partNumber: number; etag: string }>, held: readonly UploadedPart[]): void {
  const unquote = (etag: string) => etag.replace(/^W\//, "").replace(/"/g, "");
  const byNumber = new Map(held.map((p) => [p.partNumber, unquote(p.etag)]));
  if (claimed.length !== held.length) {
    throw new AppError("invalid_parameter", `the store holds ${held.length} parts, the request names ${claimed.length}`, { parameter: "parts" });
  }
  for (const part of claimed) {
    const etag = byNumber.get(part.partNumber);
    if (etag === undefined) throw new AppError("invalid_parameter", `part ${part.partNumber} is not in the store`, { parameter: "parts" });
    if (etag !== unquote(part.etag)) {
      throw new AppError("invalid_parameter", `part ${part.partNumber} in the store is not the one its ETag names (it was replaced)`, { parameter: "parts" });
    }
  }
}
