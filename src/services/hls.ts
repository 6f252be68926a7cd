import type { Caller } from "../domain/access.js";
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { derivedContentKey, type TenantIsolation } from "../domain/tenancy.js";
import { hlsContentType, hlsKey, hlsPrefix, isHlsFileName, LADDER_VERSION, MASTER_PLAYLIST } from "../domain/hls.js";
import { servingRefusal } from "../domain/servability.js";
import { BlobNotFoundError, type BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import type { MediaProbe } from "../ports/media-probe.js";
import type { AssetMeta, AssetRow, Repos } from "../ports/repos.js";
import type { ToolStatus, TranscodeSource, TranscodeWorkspace, Transcoder } from "../ports/transcoder.js";
import type { AssetService } from "./assets.js";

export interface HlsServiceDeps {
  store: BlobStore;
  /** Only `assets.get` and `blobs.get` are used. */
  repos: Pick<Repos, "assets" | "blobs">;
  /** ffprobe, for assets whose manifest has no size/duration yet. */
  probe: MediaProbe;
  transcoder: Transcoder;
  /** Who may see which asset (stream requests). */
  assets: Pick<AssetService, "findForDelivery">;
  /** The first request for a missing ladder queues `transcode-hls`. */
  queue: Pick<JobQueue, "enqueue">;
  logger: Logger;
  clock: Clock;
  /** ASSETD_TENANT_ISOLATION: strict keeps one ladder per owner of the same content. */
  tenantIsolation?: TenantIsolation;
  /** Files uploaded at once. Default 4. */
  uploadConcurrency?: number;
}

export type HlsStatus = "ready" | "transcoding" | "missing" | "failed";

export interface HlsFailure {
  code: string;
  message: string;
  ladder: string;
  at: number;
}

/** Seconds a client is told to wait before asking again for a ladder being transcoded. */
export const HLS_RETRY_AFTER_SECONDS = 5;

export type StreamResult =
  | { kind: "transcoding"; retryAfter: number }
  | { kind: "file"; data: Buffer; contentType: string; etag: string; public: boolean };

export interface HlsService {
  /**
   * One file of an asset's ladder for this caller. A ladder that does not exist yet is
   * queued (once per content) and answered "transcoding"; the client polls.
   */
  stream(caller: Caller, id: string, name: string, access?: { signed?: boolean }): Promise<StreamResult>;
  /** The `transcode-hls` job handler. Idempotent; identical videos share one ladder. */
  job(payload: { assetId: string }, signal?: AbortSignal): Promise<void>;
  /** "ready" once master.m3u8 is stored; "failed" when the source can never be transcoded. */
  status(sha256: string): Promise<HlsStatus>;
  /** The state of this asset's ladder (shared by its content, or its owner's own under strict isolation). */
  statusOf(asset: AssetRow & { blobSha256: string }): Promise<HlsStatus>;
  /** Why a ladder failed ("failed" status), for the error the route answers with. */
  failure(sha256: string): Promise<HlsFailure | undefined>;
  /** One served file; names outside the allow-list and missing files are NotFoundError. */
  file(sha256: string, name: string): Promise<{ data: Buffer; contentType: string }>;
}

/** Not in the served allow-list: written when the media itself makes a ladder impossible. */
const FAILURE_FILE = "failed.json";
/** Not served either: marks a transcode under way, with its start time. */
const PROGRESS_FILE = "progress.json";
/** Decided by the source bytes: a retry would fail the same way, so no retry, and a marker. */
const PERMANENT = new Set(["undecodable_media", "output_too_large", "pixel_limit_exceeded"]);

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined);

export function createHlsService(deps: HlsServiceDeps): HlsService {
  const { store, repos, probe, transcoder, logger, clock } = deps;
  // Installed tools do not change while the process runs: ask once.
  let tool: Promise<ToolStatus> | undefined;
  const uploadConcurrency = Math.max(1, deps.uploadConcurrency ?? 4);
  const ladderOf = (asset: { blobSha256: string | null; owner: string }) =>
    derivedContentKey(asset.blobSha256!, asset.owner, deps.tenantIsolation ?? "shared");
  const masterKey = (sha256: string) => hlsKey(sha256, MASTER_PLAYLIST);
  const failureKey = (sha256: string) => `${hlsPrefix(sha256)}/${FAILURE_FILE}`;
  // Written when a transcode starts, removed when it ends either way: "transcoding" in the
  // manifest while it exists. A worker that dies leaves it; the job's retry replaces it.
  const progressKey = (sha256: string) => `${hlsPrefix(sha256)}/${PROGRESS_FILE}`;

  async function failure(sha256: string): Promise<HlsFailure | undefined> {
    try {
      return JSON.parse((await store.read(failureKey(sha256))).toString("utf8")) as HlsFailure;
    } catch (error) {
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
  }

  async function upload(sha256: string, work: TranscodeWorkspace, files: readonly string[]): Promise<void> {
    // Segments and rung playlists (in parallel, bounded), then master.m3u8 alone and last:
    // its presence is what "ready" means, so a crash mid-upload leaves a ladder that is missing.
    const body = files.filter((f) => f !== MASTER_PLAYLIST);
    let next = 0;
    const worker = async () => {
      while (next < body.length) {
        const name = body[next++]!;
        await store.put(hlsKey(sha256, name), await work.read(name));
      }
    };
    await Promise.all(Array.from({ length: Math.min(uploadConcurrency, body.length) }, worker));
    await store.put(masterKey(sha256), await work.read(MASTER_PLAYLIST));
  }

  async function status(sha256: string): Promise<HlsStatus> {
    if (await store.head(masterKey(sha256))) return "ready";
    if (await store.head(failureKey(sha256))) return "failed";
    if (await store.head(progressKey(sha256))) return "transcoding";
    return "missing";
  }

  async function file(sha256: string, name: string): Promise<{ data: Buffer; contentType: string }> {
    if (!isHlsFileName(name)) throw new NotFoundError("file");
    try {
      return { data: await store.read(hlsKey(sha256, name)), contentType: hlsContentType(name) };
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new NotFoundError("file");
      throw error;
    }
  }

  return {
    async job({ assetId }, signal) {
      const asset = await repos.assets.get(assetId);
      if (!asset || asset.status !== "ready" || !asset.blobSha256) {
        logger.info({ assetId, status: asset?.status }, "transcode-hls: asset is not ready, nothing to do");
        return;
      }
      if (asset.kind !== "video") {
        logger.warn({ assetId, kind: asset.kind }, "transcode-hls: not a video, nothing to do");
        return;
      }
      const sha256 = asset.blobSha256;
      // Where this asset's ladder lives: its content's, or (strict isolation) its owner's copy.
      const ladder = ladderOf(asset);
      if (await store.head(masterKey(ladder))) return; // this content already has its ladder
      if (await store.head(failureKey(ladder))) return; // and this one can never have one
      const blob = await repos.blobs.get(sha256);
      if (!blob) throw new Error(`content record ${sha256} missing for asset ${assetId}`);
      // Missing bytes are a storage fault to retry (and dead-letter), never a verdict on the media.
      if (!(await store.head(blob.storageKey))) throw new BlobNotFoundError(blob.storageKey);

      const started = clock.now();
      await transcoder.withWorkspace(async (work) => {
        await store.put(progressKey(ladder), Buffer.from(JSON.stringify({ state: "transcoding", startedAt: started, ladder: LADDER_VERSION })));
        let finished = false;
        try {
          // A store without local files (S3) is streamed to disk once, for the probe and ffmpeg
          // both; store.read() would hold the whole video in memory.
          const localPath = store.localPath?.(blob.storageKey) ?? (await work.localCopy(await store.get(blob.storageKey), signal));
          // The tools open `path`; `read` is only their fallback for a source without one.
          const read = () => store.read(blob.storageKey);

          let meta: AssetMeta = asset.meta ?? {};
          if (num(meta.width) === undefined || num(meta.height) === undefined || num(meta.duration) === undefined) {
            meta = await probe.describe({ path: localPath, read, contentType: asset.contentType ?? blob.sniffedType });
          }
          if (typeof meta.mediaFactsUnavailable === "string") {
            throw new AppError("dependency_down", "video transcoding is unavailable", { dependency: "ffprobe" }, {
              cause: new Error(meta.mediaFactsUnavailable),
            });
          }
          const source: TranscodeSource = {
            path: localPath, read,
            width: num(meta.width) ?? NaN,
            height: num(meta.height) ?? NaN,
            duration: num(meta.duration) ?? NaN,
            frameRate: num(meta.frameRate),
            hasAudio: typeof meta.audioCodec === "string",
          };

          let files: readonly string[];
          try {
            ({ files } = await work.transcode(source, signal));
          } catch (error) {
            if (isAppError(error) && PERMANENT.has(error.code)) {
              const marker: HlsFailure = { code: error.code, message: error.message, ladder: LADDER_VERSION, at: clock.now() };
              await store.put(failureKey(ladder), Buffer.from(JSON.stringify(marker)));
              logger.warn({ assetId, sha256, code: error.code, err: error.cause ?? error }, "transcode-hls: the video cannot be transcoded");
              finished = true;
              return;
            }
            throw error;
          }
          const transcodeMs = clock.now() - started;
          await upload(ladder, work, files);
          finished = true;
          logger.info({ assetId, sha256, files: files.length, transcodeMs, totalMs: clock.now() - started }, "transcode-hls: ladder stored");
        } finally {
          if (finished) await store.delete(progressKey(ladder));
        }
      });
    },

    status,

    statusOf: (asset) => status(ladderOf(asset)),

    failure,

    file,

    async stream(caller, id, name, access = {}) {
      const asset = await deps.assets.findForDelivery(caller, id, { signed: access.signed === true });
      if (asset.kind !== "video" || !asset.blobSha256 || !isHlsFileName(name)) throw new NotFoundError("stream");
      // Streams need a ready asset, which a configured scanner has already passed.
      const refusal = servingRefusal(asset, "stream", { scanning: false });
      if (refusal) throw refusal;

      const sha256 = ladderOf(asset);
      const state = await status(sha256);
      if (state === "failed") {
        const why = await failure(sha256);
        const code = why?.code === "output_too_large" || why?.code === "pixel_limit_exceeded" ? why.code : "undecodable_media";
        throw new AppError(code, why?.message ?? "the video could not be transcoded");
      }
      if (state === "missing" || state === "transcoding") {
        // Without ffmpeg the job could never succeed: say so instead of answering 202 forever.
        tool ??= transcoder.status();
        const ffmpeg = await tool;
        if (!ffmpeg.available) throw new AppError("dependency_down", `video streaming is unavailable: ${ffmpeg.reason ?? "ffmpeg is missing"}`);
        await deps.queue.enqueue("transcode-hls", { assetId: asset.id }, { key: sha256 });
        return { kind: "transcoding", retryAfter: HLS_RETRY_AFTER_SECONDS };
      }
      const { data, contentType } = await file(sha256, name);
      return { kind: "file", data, contentType, etag: `"${sha256}-${LADDER_VERSION}-${name}"`, public: asset.public };
    },
  };
}
