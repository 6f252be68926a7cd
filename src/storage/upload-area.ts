import { AppError } from "../domain/errors.js";
import { assetIdTime, isAssetId } from "../domain/ids.js";
import { UPLOAD_AREA, partNumberOf, partsProblem, uploadOwnerOf, uploadPrefix } from "../domain/upload-plan.js";
import type { BlobStore, StagedObject, UploadedPart } from "../ports/blob-store.js";
import type { UploadSession } from "../ports/repos.js";
import type { UploadLeftover } from "../ports/upload-transport.js";

/**
 * The upload area (`uploads/<asset id>/` in the blob store) as both upload transports see
 * it: objects a single PUT or this service's part URLs wrote there.
 */

/** The objects under a session's folder, as parts (the single PUT's object is part 1). */
export async function objectsReceived(store: BlobStore, session: UploadSession): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = [];
  for await (const object of store.list(uploadPrefix(session.assetId))) {
    const partNumber = partNumberOf(object.key);
    if (partNumber !== undefined) parts.push({ partNumber, etag: "", size: object.size });
    else if (object.key === session.stagingKey) parts.push({ partNumber: 1, etag: "", size: object.size });
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

/** Throws `upload_incomplete` unless `have` holds parts 1..N of the session's plan, each its planned size. */
export function requireAllParts(have: readonly UploadedPart[], session: UploadSession): void {
  const problem = partsProblem(have, session.partSize!, session.expectedSize);
  if (problem) throw new AppError("upload_incomplete", problem, { received: have.map((p) => p.partNumber) });
}

/**
 * The object the client wrote at `key`, moved out of its reach before anything hashes it:
 * a late PUT cannot change what gets hashed.
 */
export async function adoptReceived(store: BlobStore, key: string): Promise<StagedObject> {
  if (!(await store.head(key))) throw new AppError("upload_incomplete", "no bytes have been received for this upload yet");
  return store.adopt(key);
}

export async function clearFolder(store: BlobStore, assetId: string): Promise<void> {
  for await (const object of store.list(uploadPrefix(assetId))) await store.delete(object.key);
}

/**
 * Objects under the folders of assets created before `before`. A URL outlives neither its
 * session nor the session's lifetime, so such an object with no session came from a late PUT.
 */
export async function* objectLeftovers(store: BlobStore, before: number): AsyncGenerator<UploadLeftover> {
  for await (const object of store.list(UPLOAD_AREA)) {
    const assetId = uploadOwnerOf(object.key);
    if (!assetId || !isAssetId(assetId) || assetIdTime(assetId) > before) continue;
    yield { assetId, kind: "object", remove: () => store.delete(object.key) };
  }
}
