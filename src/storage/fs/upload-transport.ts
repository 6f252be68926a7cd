import { Readable } from "node:stream";
import { AppError } from "../../domain/errors.js";
import { expectedPartSize, signUploadGrant, uploadPartKey, verifyUploadGrant } from "../../domain/upload-plan.js";
import type { BlobStore } from "../../ports/blob-store.js";
import type { UploadSession } from "../../ports/repos.js";
import type { UploadTransport } from "../../ports/upload-transport.js";
import { adoptReceived, clearFolder, objectLeftovers, objectsReceived, requireAllParts } from "../upload-area.js";

/**
 * Uploads to a store that cannot presign (the filesystem store): the client PUTs to this
 * service's own URLs (`PUT /v1/uploads/:id/data` and `/parts/:n`), each carrying a token
 * that binds the upload, the target and, for a single PUT, the Content-Type, like a SigV4
 * signature (domain/upload-plan.ts). Parts are objects of their own under the session's
 * folder and are joined at completion.
 */
export function createServiceUploadTransport(store: BlobStore, options: { grantSecret: string }): UploadTransport {
  const { grantSecret } = options;

  async function* joinParts(session: UploadSession, count: number): AsyncGenerator<Buffer> {
    for (let n = 1; n <= count; n++) {
      for await (const chunk of await store.get(uploadPartKey(session.assetId, n))) yield chunk as Buffer;
    }
  }

  return {
    async begin() {
      return null;
    },

    async url(session, target, validity) {
      const contentType = target === "data" ? session.contentType : "*";
      const token = signUploadGrant(grantSecret, { assetId: session.assetId, target, contentType, expiresAt: validity.expiresAt });
      const base = `${validity.baseUrl}/v1/uploads/${session.assetId}`;
      return target === "data" ? `${base}/data?token=${token}` : `${base}/parts/${target}?token=${token}`;
    },

    accept(session, put, nowSeconds) {
      const { target } = put;
      const contentType = target === "data" ? (put.contentType ?? "").trim() : "*";
      const check = verifyUploadGrant(grantSecret, put.token, { assetId: session.assetId, target, contentType }, nowSeconds);
      if (!check.ok) {
        if (check.reason === "expired") throw new AppError("url_expired", "this upload URL has expired; ask GET /v1/uploads/:id for fresh ones");
        throw new AppError("signature_invalid", target === "data"
          ? "the upload URL's signature does not match this request (its Content-Type must be the one the session declared)"
          : "the upload URL's signature does not match this request");
      }
      if (target === "data") {
        if (session.kind !== "single") throw new AppError("invalid_parameter", "this upload takes parts", { parameter: "part" });
        return { key: session.stagingKey, maxBytes: session.expectedSize };
      }
      if (session.kind !== "multipart" || session.partSize === null) {
        throw new AppError("invalid_parameter", "this upload takes a single PUT", { parameter: "part" });
      }
      const maxBytes = expectedPartSize(target, session.partSize, session.expectedSize);
      if (maxBytes === 0) throw new AppError("invalid_parameter", `part ${target} is outside the plan`, { parameter: "part" });
      return { key: uploadPartKey(session.assetId, target), maxBytes };
    },

    received: (session) => objectsReceived(store, session),

    async assemble(session) {
      if (session.kind !== "multipart") return { staged: await adoptReceived(store, session.stagingKey) };
      // Parts written through this service: joined while being hashed, straight into staging.
      const have = await objectsReceived(store, session);
      requireAllParts(have, session);
      return { body: Readable.from(joinParts(session, have.length)) };
    },

    clear: (session) => clearFolder(store, session.assetId),

    leftovers: (before) => objectLeftovers(store, before),
  };
}
