import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { AppError, isAppError, NotFoundError } from "../domain/errors.js";
import { hlsContentType, hlsKey, hlsPrefix, isHlsFileName, LADDER_VERSION, MASTER_PLAYLIST } from "../domain/hls.js";
import type { HlsSource, HlsTranscoder } from "../media/video/hls.js";
import { BlobNotFoundError, type BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { MediaProbe } from "../ports/media-probe.js";
import type { AssetMeta, Repos } from "../ports/repos.js";

export interface HlsServiceDeps {
  store: BlobStore;
  /** Only `assets.get` and `blobs.get` are used. */
  repos: Pick<Repos, "assets" | "blobs">;
  /** ffprobe, for assets whose manifest has no size/duration yet. */
  probe: MediaProbe;
  transcoder: HlsTranscoder;
  logger: Logger;
  clock: Clock;
  /** Where the source copy (stores without local paths) and the ladder are written. Default: OS temp dir. */
  tempDir?: string;
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

export interface HlsService {
  /** The `transcode-hls` job handler. Idempotent; identical videos share one ladder. */
  job(payload: { assetId: string }, signal?: AbortSignal): Promise<void>;
  /** "ready" once master.m3u8 is stored; "failed" when the source can never be transcoded. */
  status(sha256: string): Promise<HlsStatus>;
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
  const tempRoot = deps.tempDir ?? tmpdir();
  const uploadConcurrency = Math.max(1, deps.uploadConcurrency ?? 4);
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

  async function upload(sha256: string, dir: string, files: readonly string[]): Promise<void> {
    // Segments and rung playlists (in parallel, bounded), then master.m3u8 alone and last:
    // its presence is what "ready" means, so a crash mid-upload leaves a ladder that is missing.
    const body = files.filter((f) => f !== MASTER_PLAYLIST);
    let next = 0;
    const worker = async () => {
      while (next < body.length) {
        const name = body[next++]!;
        await store.put(hlsKey(sha256, name), await readFile(join(dir, name)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(uploadConcurrency, body.length) }, worker));
    await store.put(masterKey(sha256), await readFile(join(dir, MASTER_PLAYLIST)));
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
      if (await store.head(masterKey(sha256))) return; // this content already has its ladder
      if (await store.head(failureKey(sha256))) return; // and this one can never have one
      const blob = await repos.blobs.get(sha256);
      if (!blob) throw new Error(`content record ${sha256} missing for asset ${assetId}`);
      // Missing bytes are a storage fault to retry (and dead-letter), never a verdict on the media.
      if (!(await store.head(blob.storageKey))) throw new BlobNotFoundError(blob.storageKey);

      const started = clock.now();
      const work = await mkdtemp(join(tempRoot, "assetd-hls-"));
      await store.put(progressKey(sha256), Buffer.from(JSON.stringify({ state: "transcoding", startedAt: started, ladder: LADDER_VERSION })));
      let finished = false;
      try {
        // A store without local files (S3) is streamed to disk once, for the probe and ffmpeg
        // both; store.read() would hold the whole video in memory.
        let path = store.localPath?.(blob.storageKey);
        if (path === undefined) {
          path = join(work, "source");
          await pipeline(await store.get(blob.storageKey), createWriteStream(path, { mode: 0o600 }), { signal });
        }
        const localPath = path;
        const read = () => readFile(localPath);

        let meta: AssetMeta = asset.meta ?? {};
        if (num(meta.width) === undefined || num(meta.height) === undefined || num(meta.duration) === undefined) {
          meta = await probe.describe({ path: localPath, read, contentType: asset.contentType ?? blob.sniffedType });
        }
        if (typeof meta.mediaFactsUnavailable === "string") {
          throw new AppError("dependency_down", "video transcoding is unavailable", { dependency: "ffprobe" }, {
            cause: new Error(meta.mediaFactsUnavailable),
          });
        }
        const source: HlsSource = {
          path: localPath, read,
          width: num(meta.width) ?? NaN,
          height: num(meta.height) ?? NaN,
          duration: num(meta.duration) ?? NaN,
          frameRate: num(meta.frameRate),
          hasAudio: typeof meta.audioCodec === "string",
        };

        const outDir = join(work, "out");
        let files: string[];
        try {
          ({ files } = await transcoder.transcode(source, outDir, signal));
        } catch (error) {
          if (isAppError(error) && PERMANENT.has(error.code)) {
            const marker: HlsFailure = { code: error.code, message: error.message, ladder: LADDER_VERSION, at: clock.now() };
            await store.put(failureKey(sha256), Buffer.from(JSON.stringify(marker)));
            logger.warn({ assetId, sha256, code: error.code, err: error.cause ?? error }, "transcode-hls: the video cannot be transcoded");
            finished = true;
            return;
          }
          throw error;
        }
        const transcodeMs = clock.now() - started;
        await upload(sha256, outDir, files);
        finished = true;
        logger.info({ assetId, sha256, files: files.length, transcodeMs, totalMs: clock.now() - started }, "transcode-hls: ladder stored");
      } finally {
        await rm(work, { recursive: true, force: true });
        if (finished) await store.delete(progressKey(sha256));
      }
    },

    async status(sha256) {
      if (await store.head(masterKey(sha256))) return "ready";
      if (await store.head(failureKey(sha256))) return "failed";
      if (await store.head(progressKey(sha256))) return "transcoding";
      return "missing";
    },

    failure,

    async file(sha256, name) {
      if (!isHlsFileName(name)) throw new NotFoundError("file");
      try {
        return { data: await store.read(hlsKey(sha256, name)), contentType: hlsContentType(name) };
      } catch (error) {
        if (error instanceof BlobNotFoundError) throw new NotFoundError("file");
        throw error;
      }
    },
  };
}
