import type { Readable } from "node:stream";
import type { Caller } from "../domain/access.js";
import { AppError, NotFoundError, isAppError, type ErrorCode, ERROR_STATUS } from "../domain/errors.js";
import { isAssetId } from "../domain/ids.js";
import { declaredType, kindOf } from "../domain/media-types.js";
import type { StagedObject } from "../ports/blob-store.js";
import type { Metrics } from "../ports/metrics.js";
import type { AssetRow, UploadSession } from "../ports/repos.js";
import type { ResumableStaging } from "../ports/resumable-staging.js";
import type { AssembledUpload } from "../ports/upload-transport.js";
import { measureStaged, stageMeasured, type MeasuringStream } from "./measure.js";
import { clearUpload, findWritableUpload, type UploadCoreDeps } from "./upload-sessions.js";

export interface UploadCompletionDeps extends UploadCoreDeps {
  metrics: Metrics;
  /** A PUT body that sends nothing for this long is dropped (408); 0 or absent: no limit. */
  uploadIdleTimeoutMs?: number;
  /** With the idle timeout: the slowest PUT body accepted, bytes a second (0: no floor). */
  uploadMinBytesPerSecond?: number;
  /** Where tus keeps unfinished uploads; absent when tus is not mounted. */
  resumable?: ResumableStaging | undefined;
  /** Sniffer head size: how many leading bytes the type check needs. */
  headBytes: number;
}

/**
 * The bytes of an upload session arriving and being taken in: a PUT to this service's own
 * upload URLs, then completion, which never trusts what the client sent. The bytes are
 * moved where the client can no longer change them, then hashed, sized and sniffed, and
 * only then placed at their content address. Completion is idempotent.
 */
export function createUploadCompletion(deps: UploadCompletionDeps) {
  const { store, transport, repos, locks, clock, logger, ingest } = deps;
  const limits = { maxBytes: deps.maxUploadBytes, headBytes: deps.headBytes };

  /** A PUT to one of this service's upload URLs (stores without presigning). */
  async function acceptBytes(request: {
    assetId: string; target: "data" | number; token: string; contentType: string | undefined; body: Readable; signal?: AbortSignal;
  }): Promise<{ etag: string; size: number }> {
    const { assetId, target } = request;
    if (!isAssetId(assetId)) throw new NotFoundError("upload");
    const s = await repos.uploads.get(assetId);
    if (!s || s.kind === "tus") throw new NotFoundError("upload");
    const { key, maxBytes } = transport.accept(s, { target, token: request.token, contentType: request.contentType }, clock.now() / 1000);
    const { staged, measured } = await stageMeasured(store, request.body, { maxBytes, headBytes: 0, signal: request.signal, idleMs: deps.uploadIdleTimeoutMs, minBytesPerSecond: deps.uploadMinBytesPerSecond });
    // Placing the bytes is ordered against completion, which reads them.
    return locks.withLock(`upload:${assetId}`, async () => {
      if (!(await repos.uploads.get(assetId))) {
        await staged.discard();
        throw new AppError("state_conflict", "the upload is no longer open");
      }
      await store.delete(key);
      await staged.commit(key);
      return { etag: `"${measured.sha256.slice(0, 32)}"`, size: measured.bytes };
    });
  }

  /** The asset's answer once its session is over: complete is idempotent. */
  function settled(asset: AssetRow): AssetRow {
    if (asset.status === "failed" && asset.failure) {
      const code = (asset.failure.code in ERROR_STATUS ? asset.failure.code : "state_conflict") as ErrorCode;
      throw new AppError(code, asset.failure.message);
    }
    if (asset.status === "deleted") throw new NotFoundError("upload");
    return asset;
  }

  /** The assembled bytes, staged and measured in one pass or read back once. */
  async function measure(assembled: AssembledUpload): Promise<{ staged: StagedObject; measured: MeasuringStream }> {
    if ("body" in assembled) return stageMeasured(store, assembled.body, limits);
    return { staged: assembled.staged, measured: await measureStaged(assembled.staged, limits) };
  }

  /**
   * Checks measured bytes against the session and places them, or fails the session:
   * staged bytes removed, asset `failed` with the reason, reservation released.
   */
  async function finish(s: UploadSession, staged: StagedObject, measured: MeasuringStream, receivedAt: number): Promise<AssetRow> {
    let contentType: string;
    try {
      contentType = await ingest.check({
        declaredType: declaredType(s.contentType, undefined),
        size: s.expectedSize,
        sha256: s.expectedSha256 ?? undefined,
        digestSource: "sha256",
      }, measured, staged);
    } catch (error) {
      await staged.discard();
      if (isAppError(error)) {
        await clearUpload(deps, s).catch(() => {});
        await repos.uploads.close(s.assetId, "failed", error.message, clock.now(), { code: error.code, message: error.message });
        logger.info({ assetId: s.assetId, code: error.code }, "upload failed its checks");
      }
      throw error;
    }
    const sha256 = measured.sha256;
    const result = await ingest.place(sha256, staged, async (at, placed) => {
      const completed = await repos.uploads.complete({
        assetId: s.assetId,
        blob: { sha256, size: measured.bytes, ...placed, sniffedType: contentType, at },
        contentType,
        kind: kindOf(contentType),
        events: [
          { from: "pending", to: "uploaded", reason: `${measured.bytes} bytes received`, at: receivedAt },
          { from: "uploaded", to: "verified", reason: `sha256 computed, content sniffed as ${contentType}`, at },
        ],
      });
      if (!completed) throw new AppError("state_conflict", "the upload was closed while it was being completed");
      return completed;
    });
    // The store's multipart upload became the object: nothing left to abort.
    await clearUpload(deps, { ...s, multipartId: null }).catch((error: unknown) => logger.warn({ assetId: s.assetId, err: error }, "upload leftovers not removed"));
    deps.metrics.ingested(measured.bytes, !result.blobCreated);
    logger.info({ assetId: s.assetId, sha256, bytes: measured.bytes, contentType, deduplicated: !result.blobCreated }, "upload completed");
    await ingest.placed(sha256, result.blobCreated);
    await ingest.startJobs(s.assetId);
    return result.asset;
  }

  async function complete(caller: Caller, id: string, parts?: ReadonlyArray<{ partNumber: number; etag: string }>): Promise<AssetRow> {
    await findWritableUpload(repos, caller, id);
    return locks.withLock(`upload:${id}`, async () => {
      const asset = await repos.assets.get(id);
      if (!asset) throw new NotFoundError("upload");
      if (asset.status !== "pending") return settled(asset);
      const s = await repos.uploads.get(id);
      if (!s) throw new AppError("state_conflict", "the upload has no open session");
      if (s.kind === "tus") throw new AppError("upload_incomplete", "this upload is resumable: it completes when tus has received every byte");
      const assembled = await transport.assemble(s, parts);
      const receivedAt = clock.now();
      const { staged, measured } = await measure(assembled);
      return finish(s, staged, measured, receivedAt);
    });
  }

  /** A tus upload has received every byte: ingest it like any other upload. */
  async function completeResumable(id: string): Promise<AssetRow> {
    const resumable = deps.resumable;
    if (!resumable) throw new AppError("dependency_down", "resumable uploads are not configured");
    return locks.withLock(`upload:${id}`, async () => {
      const asset = await repos.assets.get(id);
      if (!asset) throw new NotFoundError("upload");
      if (asset.status !== "pending") return settled(asset);
      const s = await repos.uploads.get(id);
      if (!s || s.kind !== "tus") throw new AppError("state_conflict", "the upload has no open resumable session");
      const { staged, measured } = await stageMeasured(store, await resumable.read(s.stagingKey), limits);
      const done = await finish(s, staged, measured, clock.now());
      await resumable.remove(s.stagingKey).catch((error: unknown) => logger.warn({ assetId: id, err: error }, "tus upload not removed"));
      return done;
    });
  }

  return { acceptBytes, complete, completeResumable };
}

export type UploadCompletion = ReturnType<typeof createUploadCompletion>;
