import { checkTags } from "../domain/tags.js";
import { canManage, requirePrincipalOf, type Caller } from "../domain/access.js";
import { AppError, NotFoundError } from "../domain/errors.js";
import { sanitiseFilename } from "../domain/filename.js";
import { isAssetId, newAssetId } from "../domain/ids.js";
import { checkDeclaredType, declaredType, kindOf, normaliseType, type TypePolicy } from "../domain/media-types.js";
import { planUpload, uploadDataKey } from "../domain/upload-plan.js";
import { ContentCollectedError } from "../ports/gc.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { Locks } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { AssetRow, Repos, UploadSession } from "../ports/repos.js";
import type { ResumableStaging } from "../ports/resumable-staging.js";
import type { UploadTransport } from "../ports/upload-transport.js";
import type { IngestService } from "./ingest.js";

/** What both halves of the upload use case (sessions and completion) are built from. */
export interface UploadCoreDeps {
  store: BlobStore;
  transport: UploadTransport;
  repos: Repos;
  locks: Locks;
  clock: Clock;
  logger: Logger;
  ingest: IngestService;
  maxUploadBytes: number;
}

export interface UploadSessionDeps extends UploadCoreDeps {
  policy: TypePolicy;
  quotaDefaultBytes: number | null;
  multipartThreshold: number;
  partSize: number;
  urlTtlSeconds: number;
  sessionTtlSeconds: number;
  /** Where tus keeps unfinished uploads; absent when tus is not mounted. */
  resumable?: ResumableStaging | undefined;
}

export interface OpenInput {
  filename: string;
  contentType: string;
  size: number;
  sha256?: string | undefined;
  tags?: Record<string, string> | undefined;
  public?: boolean | undefined;
  /** Parts even below the multipart threshold (a client that wants parallel parts or part retries). */
  multipart?: boolean | undefined;
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

/** The caller's own upload asset; someone else's is never visible: 404, not 403. */
export async function findWritableUpload(repos: Repos, caller: Caller, id: string): Promise<AssetRow> {
  const asset = isAssetId(id) ? await repos.assets.get(id, { tags: false }) : undefined;
  if (!asset || !canManage(caller, asset)) throw new NotFoundError("upload");
  return asset;
}

/** Removes whatever a session staged, over its transport or in tus staging; idempotent. */
export async function clearUpload(
  deps: Pick<UploadSessionDeps, "transport" | "resumable">,
  session: UploadSession,
): Promise<void> {
  if (session.kind === "tus") await deps.resumable?.remove(session.stagingKey);
  await deps.transport.clear(session);
}

/**
 * Upload sessions that do not stream through `POST /v1/assets`: the client sends the bytes
 * over the upload transport (straight to the store, or to this service's signed URLs), in
 * one PUT or in parts, or resumably through tus; completion is services/upload-complete.ts.
 *
 * A session reserves its declared size against the owner's quota when it opens, so
 * parallel sessions cannot overshoot; completion settles the reservation, abort and the
 * expiry sweep release it.
 */
export function createUploadSessions(deps: UploadSessionDeps) {
  const { store, transport, repos, locks, clock, logger, ingest } = deps;

  function validate(input: OpenInput): { filename: string; contentType: string; declared: string | undefined; sha256: string | undefined } {
    if (input.tags) checkTags(input.tags);
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
      if (!blob || blob.state !== "live" || !(await store.head(blob.storageKey))) return undefined;
      const typeCheck = checkDeclaredType(checked.declared, blob.sniffedType);
      if (!typeCheck.ok) {
        throw new AppError("type_mismatch", `declared ${typeCheck.declared} but the content is ${typeCheck.sniffed}`, {
          declared: typeCheck.declared, sniffed: typeCheck.sniffed,
        });
      }
      const at = clock.now();
      // gc may claim the content after our look (a lost lock): then the bytes are sent after all.
      const recorded = await repos.recordIngest({
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
      }).catch((error: unknown) => {
        if (error instanceof ContentCollectedError) return undefined;
        throw error;
      });
      return recorded?.asset;
    });
  }

  /** Fresh URLs for a session; `baseUrl` is this service's public origin. */
  async function targetFor(session: UploadSession, baseUrl: string): Promise<UploadTarget> {
    // At least the configured lifetime from now, rounded up to a whole second because SigV4
    // dates carry whole seconds, and never after the session itself.
    const expiresAt = Math.min(Math.ceil(clock.now() / 1000) + deps.urlTtlSeconds, Math.floor(session.expiresAt / 1000));
    const validity = { baseUrl, expiresAt, ttlSeconds: Math.max(1, expiresAt - Math.floor(clock.now() / 1000)) };
    const expiresIso = new Date(expiresAt * 1000).toISOString();
    if (session.kind === "single") {
      const url = await transport.url(session, "data", validity);
      return { kind: "single", method: "PUT", url, headers: { "content-type": session.contentType }, expiresAt: expiresIso };
    }
    if (session.kind !== "multipart" || session.partSize === null) {
      throw new AppError("state_conflict", "this upload is resumable: send its bytes through /v1/tus");
    }
    const count = Math.ceil(session.expectedSize / session.partSize);
    const parts: Array<{ partNumber: number; url: string }> = [];
    for (let n = 1; n <= count; n++) parts.push({ partNumber: n, url: await transport.url(session, n, validity) });
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
    const plan = options.kind === "tus" ? undefined : planUpload(input.size, input.multipart ? { ...deps, multipartThreshold: 0 } : deps);
    const kind = options.kind ?? plan!.kind;
    const stagingKey = kind === "tus" ? id : uploadDataKey(id);
    const multipartId = kind === "tus" ? null : await transport.begin({ kind, stagingKey, contentType: checked.contentType });
    const session: UploadSession = {
      assetId: id, owner, kind, stagingKey, contentType: checked.contentType,
      expectedSize: input.size, expectedSha256: checked.sha256 ?? null, multipartId,
      partSize: plan?.kind === "multipart" ? plan.partSize : null,
      reservedBytes: input.size, expiresAt: now + deps.sessionTtlSeconds * 1000, createdAt: now,
    };
    const undo = async () => {
      if (multipartId) await transport.clear(session).catch(() => {});
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
      await undo();
      throw error;
    });
    if ("quotaExceeded" in opened) {
      await undo();
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

  /** A pending session with fresh URLs and what has arrived (to resume or refresh URLs). */
  async function describe(caller: Caller, id: string, baseUrl: string) {
    const asset = await findWritableUpload(repos, caller, id);
    const s = asset.status === "pending" ? await repos.uploads.get(id) : undefined;
    if (!s) throw new AppError("state_conflict", `the upload is no longer open (the asset is ${asset.status})`, { status: asset.status });
    const upload = s.kind === "tus" ? null : await targetFor(s, baseUrl);
    return { asset, upload, received: await transport.received(s), expiresAt: new Date(s.expiresAt).toISOString() };
  }

  /** The client gives up: staged bytes removed, asset `deleted`, reservation released. */
  async function abort(caller: Caller, id: string): Promise<void> {
    await findWritableUpload(repos, caller, id);
    await locks.withLock(`upload:${id}`, async () => {
      const asset = await repos.assets.get(id, { tags: false });
      if (!asset || asset.status === "deleted") return;
      if (asset.status !== "pending") {
        throw new AppError("state_conflict", "the upload has completed; delete the asset with DELETE /v1/assets/:id", { status: asset.status });
      }
      const s = await repos.uploads.get(id);
      if (s) await clearUpload(deps, s);
      await repos.uploads.close(id, "deleted", `upload aborted by ${caller?.sub ?? "anonymous"}`, clock.now());
    });
  }

  /**
   * Closes sessions past their lifetime (staged bytes, multipart uploads and tus data
   * removed; asset `deleted`), then removes what the transport holds for assets with no
   * session: late PUTs and multipart uploads nobody completed.
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
          await clearUpload(deps, current);
          if (await repos.uploads.close(s.assetId, "deleted", "upload session expired", clock.now())) report.sessions++;
          closed++;
        });
      }
      if (batch.length < SWEEP_BATCH || closed === 0) break;
    }
    const open = new Map<string, boolean>();
    for await (const leftover of transport.leftovers(now - deps.sessionTtlSeconds * 1000)) {
      const id = leftover.assetId;
      if (id !== undefined) {
        if (!open.has(id)) open.set(id, (await repos.uploads.get(id)) !== undefined);
        if (open.get(id)) continue;
      }
      await leftover.remove();
      if (leftover.kind === "object") report.objects++;
      else report.multipart++;
    }
    if (report.sessions + report.multipart + report.objects > 0) logger.info(report, "upload sweep");
    return report;
  }

  return { open, session, describe, abort, sweep };
}

export type UploadSessions = ReturnType<typeof createUploadSessions>;
