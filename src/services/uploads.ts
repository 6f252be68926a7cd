import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { canWrite, requirePrincipalOf, type Caller } from "../domain/access.js";
import { rawKey } from "../domain/content-address.js";
import { AppError, NotFoundError, isAppError, type ErrorCode, ERROR_STATUS } from "../domain/errors.js";
import { sanitiseFilename } from "../domain/filename.js";
import { assetIdTime, isAssetId, newAssetId } from "../domain/ids.js";
import { checkDeclaredType, declaredType, kindOf, normaliseType, type TypePolicy } from "../domain/media-types.js";
import { expectedPartSize, partsProblem, planUpload, signUploadGrant, verifyUploadGrant } from "../domain/upload-plan.js";
import type { BlobStore, StagedObject, UploadedPart } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { Locks } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { AssetRow, Repos, UploadSession } from "../ports/repos.js";
import type { ResumableStaging } from "../ports/resumable-staging.js";
import type { IngestService } from "./ingest.js";
import { MeasuringStream } from "./measure.js";

export interface UploadServiceDeps {
  store: BlobStore;
  repos: Repos;
  locks: Locks;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  ingest: IngestService;
  policy: TypePolicy;
  maxUploadBytes: number;
  quotaDefaultBytes: number | null;
  multipartThreshold: number;
  partSize: number;
  urlTtlSeconds: number;
  sessionTtlSeconds: number;
  /** Signs the service's own upload URLs (the filesystem store's stand-in for presigning). */
  grantSecret: string;
  /** Where tus keeps unfinished uploads; absent when tus is not mounted. */
  resumable?: ResumableStaging;
  /** Sniffer head size: how many leading bytes the type check needs. */
  headBytes: number;
}

export interface OpenInput {
  filename: string;
  contentType: string;
  size: number;
  sha256?: string | undefined;
  tags?: Record<string, string> | undefined;
  public?: boolean | undefined;
}

/** Where and how the client sends the bytes (DESIGN §5 `POST /v1/uploads`). */
export type UploadTarget =
  | { kind: "single"; method: "PUT"; url: string; headers: Record<string, string>; expiresAt: string }
  | { kind: "multipart"; uploadId: string; partSize: number; parts: Array<{ partNumber: number; url: string }>; expiresAt: string };

export interface OpenResult {
  asset: AssetRow;
  /** null: the owner already holds this content, so no transfer is needed. */
  upload: UploadTarget | null;
}

export interface SweepReport {
  /** Expired sessions closed. */
  sessions: number;
  /** Store multipart uploads under `uploads/` with no session, aborted. */
  multipart: number;
  /** Objects under `uploads/` with no session (PUT after the session ended), removed. */
  objects: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const SWEEP_BATCH = 100;

/** Everything a session writes lives under this store prefix. */
export const uploadPrefix = (assetId: string) => `uploads/${assetId.toLowerCase()}/`;
const dataKey = (assetId: string) => `${uploadPrefix(assetId)}data`;
const partKey = (assetId: string, partNumber: number) => `${uploadPrefix(assetId)}part-${String(partNumber).padStart(5, "0")}`;

/**
 * Uploads that do not stream through `POST /v1/assets`: the client sends the bytes
 * straight to the store (S3 presigned URLs) or to signed URLs of this service (filesystem
 * store), in one PUT or in parts, or resumably through tus; then asks to complete.
 *
 * A session reserves its declared size against the owner's quota when it opens, so
 * parallel sessions cannot overshoot; completion settles the reservation, abort and the
 * expiry sweep release it. Completion never trusts what the client sent: the bytes are
 * moved where the client can no longer change them, then hashed, sized and sniffed, and
 * only then placed at their content address.
 */
export function createUploadService(deps: UploadServiceDeps) {
  const { store, repos, locks, clock, logger, ingest } = deps;

  async function findWritable(caller: Caller, id: string): Promise<AssetRow> {
    const asset = isAssetId(id) ? await repos.assets.get(id, { tags: false }) : undefined;
    // Someone else's upload session is never visible: 404, not 403.
    if (!asset || !canWrite(caller, asset)) throw new NotFoundError("upload");
    return asset;
  }

  function validate(input: OpenInput): { filename: string; contentType: string; declared: string | undefined; sha256: string | undefined } {
    if (!Number.isSafeInteger(input.size) || input.size < 1) {
      throw new AppError("invalid_parameter", "size must be a whole number of bytes, at least 1", { parameter: "size" });
    }
    if (input.size > deps.maxUploadBytes) {
      throw new AppError("payload_too_large", `${input.size} bytes exceed the upload limit of ${deps.maxUploadBytes} bytes`, { limit: deps.maxUploadBytes });
    }
    const filename = sanitiseFilename(input.filename);
    const contentType = input.contentType.trim();
    if (contentType === "" || /[\r\n]/.test(contentType) || contentType.length > 255) {
      throw new AppError("invalid_parameter", "contentType must be a media type such as image/jpeg", { parameter: "contentType" });
    }
    const declared = declaredType(contentType, filename);
    if (declared !== undefined && !deps.policy.allows(declared)) {
      throw new AppError("type_not_allowed", `${declared} is not an allowed type`, { declared });
    }
    const sha256 = input.sha256?.toLowerCase();
    if (sha256 !== undefined && !SHA256.test(sha256)) {
      throw new AppError("invalid_parameter", "sha256 must be 64 hexadecimal digits", { parameter: "sha256" });
    }
    return { filename, contentType, declared, sha256 };
  }

  /**
   * The owner already holds content with this sha256: a new asset referencing it, with no
   * transfer. Only the owner's own assets are consulted, so the answer says nothing about
   * what anyone else stored.
   */
  async function reuseOwnContent(owner: string, input: OpenInput, checked: ReturnType<typeof validate>): Promise<AssetRow | undefined> {
    if (!checked.sha256) return undefined;
    const held = await repos.assets.heldBy(owner, checked.sha256);
    if (!held || held.size !== input.size) return undefined;
    const sha256 = checked.sha256;
    return locks.withLock(`blob:${sha256}`, async () => {
      const blob = await repos.blobs.get(sha256);
      if (!blob || !(await store.head(blob.storageKey))) return undefined;
      const typeCheck = checkDeclaredType(checked.declared, blob.sniffedType);
      if (!typeCheck.ok) {
        throw new AppError("type_mismatch", `declared ${typeCheck.declared} but the content is ${typeCheck.sniffed}`, {
          declared: typeCheck.declared, sniffed: typeCheck.sniffed,
        });
      }
      const at = clock.now();
      const { asset } = await repos.recordIngest({
        blob: { sha256, size: blob.size, storageKey: blob.storageKey, sniffedType: blob.sniffedType, at },
        asset: {
          id: newAssetId(at), owner, filename: checked.filename, declaredType: checked.declared ?? null,
          contentType: blob.sniffedType, kind: kindOf(blob.sniffedType), size: blob.size,
          public: input.public ?? false, tags: input.tags ?? {}, createdAt: at,
        },
        events: [
          { from: null, to: "pending", reason: "upload session opened", at },
          { from: "pending", to: "uploaded", reason: "transfer skipped: the owner already holds this content", at },
          { from: "uploaded", to: "verified", reason: `sha256 matches stored content sniffed as ${blob.sniffedType}`, at },
        ],
        quota: { reserved: 0, defaultMaxBytes: deps.quotaDefaultBytes },
      });
      return asset;
    });
  }

  /**
   * When a new URL stops working (epoch seconds): at least the configured lifetime from now,
   * rounded up to a whole second because SigV4 dates carry whole seconds, and never after
   * the session itself.
   */
  function urlExpiry(session: UploadSession): number {
    return Math.min(Math.ceil(clock.now() / 1000) + deps.urlTtlSeconds, Math.floor(session.expiresAt / 1000));
  }

  /** Fresh URLs for a session; `baseUrl` is this service's public origin. */
  async function targetFor(session: UploadSession, baseUrl: string): Promise<UploadTarget> {
    const expiresAt = urlExpiry(session);
    const ttl = Math.max(1, expiresAt - Math.floor(clock.now() / 1000));
    const grant = (target: "data" | number, contentType: string) =>
      signUploadGrant(deps.grantSecret, { assetId: session.assetId, target, contentType, expiresAt });
    const base = `${baseUrl}/v1/uploads/${session.assetId}`;
    const expiresIso = new Date(expiresAt * 1000).toISOString();
    if (session.kind === "single") {
      const url = store.direct
        ? await store.direct.presignPut(session.stagingKey, session.contentType, session.expectedSize, ttl)
        : `${base}/data?token=${grant("data", session.contentType)}`;
      return { kind: "single", method: "PUT", url, headers: { "content-type": session.contentType }, expiresAt: expiresIso };
    }
    if (session.kind !== "multipart" || session.partSize === null) {
      throw new AppError("state_conflict", "this upload is resumable: send its bytes through /v1/tus");
    }
    const count = Math.ceil(session.expectedSize / session.partSize);
    const parts: Array<{ partNumber: number; url: string }> = [];
    for (let n = 1; n <= count; n++) {
      const url = store.direct
        ? await store.direct.presignPart(session.stagingKey, session.multipartId!, n, expectedPartSize(n, session.partSize, session.expectedSize), ttl)
        : `${base}/parts/${n}?token=${grant(n, "*")}`;
      parts.push({ partNumber: n, url });
    }
    return { kind: "multipart", uploadId: session.multipartId ?? session.assetId, partSize: session.partSize, parts, expiresAt: expiresIso };
  }

  async function open(caller: Caller, input: OpenInput, options: { kind?: "tus"; baseUrl?: string } = {}): Promise<OpenResult> {
    const owner = requirePrincipalOf(caller).sub;
    const checked = validate(input);
    if (options.kind !== "tus") {
      const reused = await reuseOwnContent(owner, input, checked);
      if (reused) {
        await ingest.startJobs(reused.id);
        logger.info({ assetId: reused.id, sha256: checked.sha256 }, "upload skipped: owner already holds the content");
        return { asset: reused, upload: null };
      }
    }

    const now = clock.now();
    const id = newAssetId(now);
    const plan = options.kind === "tus" ? undefined : planUpload(input.size, deps);
    const kind = options.kind ?? plan!.kind;
    const stagingKey = kind === "tus" ? id : dataKey(id);
    const multipartId = plan?.kind === "multipart" && store.direct ? await store.direct.createMultipart(stagingKey, checked.contentType) : null;
    const session: UploadSession = {
      assetId: id, owner, kind, stagingKey, contentType: checked.contentType,
      expectedSize: input.size, expectedSha256: checked.sha256 ?? null, multipartId,
      partSize: plan?.kind === "multipart" ? plan.partSize : null,
      reservedBytes: input.size, expiresAt: now + deps.sessionTtlSeconds * 1000, createdAt: now,
    };
    const opened = await repos.uploads.open(
      {
        id, owner, filename: checked.filename, declaredType: checked.declared ?? normaliseType(checked.contentType),
        kind: kindOf(checked.declared ?? "application/octet-stream"), public: input.public ?? false,
        tags: input.tags ?? {}, createdAt: now,
      },
      session,
      deps.quotaDefaultBytes,
    ).catch(async (error: unknown) => {
      if (multipartId) await store.direct!.abortMultipart(stagingKey, multipartId).catch(() => {});
      throw error;
    });
    if ("quotaExceeded" in opened) {
      if (multipartId) await store.direct!.abortMultipart(stagingKey, multipartId).catch(() => {});
      const quota = opened.quotaExceeded;
      throw new AppError("quota_exceeded", `an upload of ${input.size} bytes would exceed the owner's quota`, {
        maxBytes: quota.maxBytes ?? deps.quotaDefaultBytes, usedBytes: quota.usedBytes, reservedBytes: quota.reservedBytes,
      });
    }
    logger.info({ assetId: id, kind, size: input.size }, "upload session opened");
    const upload = kind === "tus" ? null : await targetFor(session, options.baseUrl ?? "");
    return { asset: opened.asset, upload };
  }

  async function session(assetId: string): Promise<UploadSession | undefined> {
    return isAssetId(assetId) ? repos.uploads.get(assetId) : undefined;
  }

  /** What the store holds of a session so far. */
  async function received(s: UploadSession): Promise<UploadedPart[]> {
    if (s.kind === "multipart" && store.direct && s.multipartId) return store.direct.listParts(s.stagingKey, s.multipartId);
    const parts: UploadedPart[] = [];
    for await (const object of store.list(uploadPrefix(s.assetId))) {
      const match = /\/part-(\d{5})$/.exec(object.key);
      if (match) parts.push({ partNumber: Number(match[1]), etag: "", size: object.size });
      else if (object.key === s.stagingKey) parts.push({ partNumber: 1, etag: "", size: object.size });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async function pendingSession(caller: Caller, id: string): Promise<{ asset: AssetRow; session: UploadSession }> {
    const asset = await findWritable(caller, id);
    const s = asset.status === "pending" ? await repos.uploads.get(id) : undefined;
    if (!s) throw new AppError("state_conflict", `the upload is no longer open (the asset is ${asset.status})`, { status: asset.status });
    return { asset, session: s };
  }

  /** A pending session with fresh URLs and what has arrived (to resume or refresh URLs). */
  async function describe(caller: Caller, id: string, baseUrl: string) {
    const { asset, session: s } = await pendingSession(caller, id);
    const upload = s.kind === "tus" ? null : await targetFor(s, baseUrl);
    return { asset, upload, received: await received(s), expiresAt: new Date(s.expiresAt).toISOString() };
  }

  /**
   * A PUT to one of this service's upload URLs (stores without presigning). The token binds
   * the upload, the part and, for a single PUT, the Content-Type, like a SigV4 signature.
   */
  async function acceptBytes(request: {
    assetId: string; target: "data" | number; token: string; contentType: string | undefined; body: Readable; signal?: AbortSignal;
  }): Promise<{ etag: string; size: number }> {
    const { assetId, target } = request;
    if (store.direct || !isAssetId(assetId)) throw new NotFoundError("upload");
    const s = await repos.uploads.get(assetId);
    if (!s || s.kind === "tus") throw new NotFoundError("upload");
    const contentType = target === "data" ? (request.contentType ?? "").trim() : "*";
    const check = verifyUploadGrant(deps.grantSecret, request.token, { assetId, target, contentType }, clock.now() / 1000);
    if (!check.ok) {
      if (check.reason === "expired") throw new AppError("url_expired", "this upload URL has expired; ask GET /v1/uploads/:id for fresh ones");
      throw new AppError("signature_invalid", target === "data"
        ? "the upload URL's signature does not match this request (its Content-Type must be the one the session declared)"
        : "the upload URL's signature does not match this request");
    }
    let limit: number;
    let key: string;
    if (target === "data") {
      if (s.kind !== "single") throw new AppError("invalid_parameter", "this upload takes parts", { parameter: "part" });
      limit = s.expectedSize;
      key = s.stagingKey;
    } else {
      if (s.kind !== "multipart" || s.partSize === null) throw new AppError("invalid_parameter", "this upload takes a single PUT", { parameter: "part" });
      limit = expectedPartSize(target, s.partSize, s.expectedSize);
      if (limit === 0) throw new AppError("invalid_parameter", `part ${target} is outside the plan`, { parameter: "part" });
      key = partKey(assetId, target);
    }
    const measured = new MeasuringStream(limit, 0);
    void pipeline(request.body, measured).catch(() => {});
    // A body over the limit fails `measured`, which also ends the request (and may abort
    // `signal`): the limit is the reason to report, not the abort that followed.
    const staged = await store.stage(measured, request.signal).catch((error: unknown) => {
      throw measured.errored ?? error;
    });
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

  /** Removes whatever a session staged; idempotent. */
  async function clearStaging(s: UploadSession): Promise<void> {
    if (s.kind === "tus") await deps.resumable?.remove(s.stagingKey);
    if (s.multipartId && store.direct) await store.direct.abortMultipart(s.stagingKey, s.multipartId);
    for await (const object of store.list(uploadPrefix(s.assetId))) await store.delete(object.key);
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
      }, measured);
    } catch (error) {
      await staged.discard();
      if (isAppError(error)) {
        await clearStaging(s).catch(() => {});
        await repos.uploads.close(s.assetId, "failed", error.message, clock.now(), { code: error.code, message: error.message });
        logger.info({ assetId: s.assetId, code: error.code }, "upload failed its checks");
      }
      throw error;
    }
    const sha256 = measured.sha256;
    const result = await ingest.place(sha256, staged, async (at) => {
      const completed = await repos.uploads.complete({
        assetId: s.assetId,
        blob: { sha256, size: measured.bytes, storageKey: rawKey(sha256), sniffedType: contentType, at },
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
    await clearStaging({ ...s, multipartId: null }).catch((error: unknown) => logger.warn({ assetId: s.assetId, err: error }, "upload leftovers not removed"));
    deps.metrics.ingested(measured.bytes, !result.blobCreated);
    logger.info({ assetId: s.assetId, sha256, bytes: measured.bytes, contentType, deduplicated: !result.blobCreated }, "upload completed");
    await ingest.startJobs(s.assetId);
    return result.asset;
  }

  /** Reads `source` through a measuring stream, to its end. */
  async function measureAll(source: Readable, limit: number): Promise<MeasuringStream> {
    const measured = new MeasuringStream(limit, deps.headBytes);
    await pipeline(source, measured, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
    return measured;
  }

  async function complete(caller: Caller, id: string, parts?: ReadonlyArray<{ partNumber: number; etag: string }>): Promise<AssetRow> {
    await findWritable(caller, id);
    return locks.withLock(`upload:${id}`, async () => {
      const asset = await repos.assets.get(id);
      if (!asset) throw new NotFoundError("upload");
      if (asset.status !== "pending") return settled(asset);
      const s = await repos.uploads.get(id);
      if (!s) throw new AppError("state_conflict", "the upload has no open session");
      if (s.kind === "tus") throw new AppError("upload_incomplete", "this upload is resumable: it completes when tus has received every byte");

      if (s.kind === "multipart" && !store.direct) {
        // Parts written through this service: joined while being hashed, straight into staging.
        const have = await received(s);
        const problem = partsProblem(have, s.partSize!, s.expectedSize);
        if (problem) throw new AppError("upload_incomplete", problem, { received: have.map((p) => p.partNumber) });
        const measured = new MeasuringStream(deps.maxUploadBytes, deps.headBytes);
        void pipeline(Readable.from(joinParts(s, have.length)), measured).catch(() => {});
        const staged = await store.stage(measured);
        return finish(s, staged, measured, clock.now());
      }

      if (s.kind === "multipart" && store.direct && s.multipartId) {
        const have = await store.direct.listParts(s.stagingKey, s.multipartId).catch((error: unknown) => {
          if (isAppError(error) && error.code === "not_found") return undefined; // completed by an earlier attempt
          throw error;
        });
        if (have) {
          const problem = partsProblem(have, s.partSize!, s.expectedSize);
          if (problem) throw new AppError("upload_incomplete", problem, { received: have.map((p) => p.partNumber) });
          if (parts) checkClaimedParts(parts, have);
          // Always the listed parts: completing with fewer would drop (and orphan) the rest.
          await store.direct.completeMultipart(s.stagingKey, s.multipartId, have);
        }
      }

      const head = await store.head(s.stagingKey);
      if (!head) throw new AppError("upload_incomplete", "no bytes have been received for this upload yet");
      // Moved out of the client's reach before hashing: a late PUT cannot change what gets hashed.
      const staged = await store.adopt(s.stagingKey);
      const receivedAt = clock.now();
      let measured: MeasuringStream;
      try {
        measured = await measureAll(await staged.read(), deps.maxUploadBytes);
      } catch (error) {
        await staged.discard();
        throw error;
      }
      return finish(s, staged, measured, receivedAt);
    });
  }

  async function* joinParts(s: UploadSession, count: number): AsyncGenerator<Buffer> {
    for (let n = 1; n <= count; n++) {
      for await (const chunk of await store.get(partKey(s.assetId, n))) yield chunk as Buffer;
    }
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
      const measured = new MeasuringStream(deps.maxUploadBytes, deps.headBytes);
      void pipeline(await resumable.read(s.stagingKey), measured).catch(() => {});
      const staged = await store.stage(measured);
      const done = await finish(s, staged, measured, clock.now());
      await resumable.remove(s.stagingKey).catch((error: unknown) => logger.warn({ assetId: id, err: error }, "tus upload not removed"));
      return done;
    });
  }

  /** The client gives up: staged bytes removed, asset `deleted`, reservation released. */
  async function abort(caller: Caller, id: string): Promise<void> {
    await findWritable(caller, id);
    await locks.withLock(`upload:${id}`, async () => {
      const asset = await repos.assets.get(id, { tags: false });
      if (!asset || asset.status === "deleted") return;
      if (asset.status !== "pending") {
        throw new AppError("state_conflict", "the upload has completed; delete the asset with DELETE /v1/assets/:id", { status: asset.status });
      }
      const s = await repos.uploads.get(id);
      if (s) await clearStaging(s);
      await repos.uploads.close(id, "deleted", `upload aborted by ${caller?.sub ?? "anonymous"}`, clock.now());
    });
  }

  /**
   * Closes sessions past their lifetime (staged bytes, multipart uploads and tus data
   * removed; asset `deleted`) and aborts store multipart uploads that no session owns.
   */
  async function sweep(): Promise<SweepReport> {
    const report: SweepReport = { sessions: 0, multipart: 0, objects: 0 };
    const now = clock.now();
    for (;;) {
      const batch = await repos.uploads.expired(now, SWEEP_BATCH);
      let closed = 0;
      for (const s of batch) {
        await locks.withLock(`upload:${s.assetId}`, async () => {
          const current = await repos.uploads.get(s.assetId);
          if (!current || current.expiresAt > now) return;
          await clearStaging(current);
          if (await repos.uploads.close(s.assetId, "deleted", "upload session expired", clock.now())) report.sessions++;
          closed++;
        });
      }
      if (batch.length < SWEEP_BATCH || closed === 0) break;
    }
    // A URL outlives neither its session nor the session's lifetime, so bytes under
    // uploads/<id>/ of an older asset with no session came from a late PUT.
    const oldest = now - deps.sessionTtlSeconds * 1000;
    const checked = new Map<string, boolean>();
    for await (const object of store.list("uploads/")) {
      const id = /^uploads\/([0-9a-z]{26})\//.exec(object.key)?.[1]?.toUpperCase();
      if (!id || !isAssetId(id) || assetIdTime(id) > oldest) continue;
      if (!checked.has(id)) checked.set(id, (await repos.uploads.get(id)) !== undefined);
      if (checked.get(id)) continue;
      await store.delete(object.key);
      report.objects++;
    }
    if (store.direct) {
      const cutoff = oldest;
      for await (const pending of store.direct.listMultipart("uploads/")) {
        if (pending.initiatedAt > cutoff) continue;
        const owner = /^uploads\/([0-9a-z]{26})\//.exec(pending.key);
        const id = owner?.[1]?.toUpperCase();
        if (id && (await repos.uploads.get(id))) continue;
        await store.direct.abortMultipart(pending.key, pending.uploadId);
        report.multipart++;
      }
    }
    if (report.sessions + report.multipart + report.objects > 0) logger.info(report, "upload sweep");
    return report;
  }

  return { open, session, describe, acceptBytes, complete, completeResumable, abort, sweep };
}

export type UploadService = ReturnType<typeof createUploadService>;

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
