import { checkTags } from "../domain/tags.js";
import type { Readable } from "node:stream";
import { rawKeyOf } from "../domain/content-address.js";
import { ContentCollectedError } from "../ports/gc.js";
import { arrivalEvents } from "../domain/arrival.js";
import { AppError } from "../domain/errors.js";
import { newAssetId } from "../domain/ids.js";
import { checkDeclaredType, kindOf, type TypePolicy } from "../domain/media-types.js";
import { quotaExceeded, quotaView } from "../domain/quota.js";
import type { BlobStore, StagedObject } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { Locks } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { AssetRow, Repos } from "../ports/repos.js";
import type { Sniffer } from "../ports/sniffer.js";
import { stageMeasured, type MeasuringStream, type StreamQuota } from "./measure.js";

export interface IngestDeps {
  store: BlobStore;
  repos: Repos;
  locks: Locks;
  queue: JobQueue;
  sniffer: Sniffer;
  policy: TypePolicy;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  maxUploadBytes: number;
  /** Per-owner limit when the owner has none of their own; null: unlimited. */
  quotaDefaultBytes: number | null;
  /** A virus scanner is configured: new content is scanned before anything else. */
  scanning: boolean;
  /** An upload body that sends nothing for this long is dropped (408); 0 or absent: no limit. */
  uploadIdleTimeoutMs?: number;
  /** With the idle timeout: the slowest upload body accepted, bytes a second (0: no floor). */
  uploadMinBytesPerSecond?: number;
  /** Called once content is stored for the first time (the replica's copy is queued there). */
  onNewContent?: (sha256: string) => Promise<void>;
}

export interface IngestInput {
  body: Readable;
  owner: string;
  filename: string;
  /** Normalised; undefined when the client declared nothing. */
  declaredType: string | undefined;
  /** From `Content-Digest`: the bytes must hash to this (hex) or nothing is kept. */
  expectedSha256?: string;
  /** From `Content-Length`: held against the owner's quota before any byte is read. */
  declaredSize?: number;
  public: boolean;
  tags: Record<string, string>;
  /** Transform queries to render once the asset is ready (eager variants), validated by the caller. */
  eager?: readonly string[];
  signal?: AbortSignal;
  /** Told once the asset is recorded: whether its bytes were already stored (dedup). */
  onStored?: (outcome: { deduplicated: boolean }) => void;
}

/** Where `place` put the bytes: the live row's key, or a new incarnation it wrote. */
export interface PlacedBlob {
  storageKey: string;
  generation?: number;
}

/** What the bytes must turn out to be. */
export interface ContentExpectations {
  declaredType: string | undefined;
  size?: number;
  sha256?: string | undefined;
  /** Names the promise in a mismatch message ("Content-Digest", "declared sha256"). */
  digestSource?: string;
}

/**
 * Direct streaming ingest: hash and sniff while the bytes land in staging, check them,
 * then make them visible at their content address (or drop them when that content is
 * already stored) and record the asset as `verified` in one transaction. Any failure
 * before that point leaves no object and no row.
 */
export function createIngestService(deps: IngestDeps) {
  const { store, repos, locks, queue, sniffer, policy, clock, metrics, logger } = deps;

  function stage(input: Pick<IngestInput, "body" | "signal">, quota?: StreamQuota): Promise<{ staged: StagedObject; measured: MeasuringStream }> {
    return stageMeasured(store, input.body, {
      maxBytes: deps.maxUploadBytes, headBytes: sniffer.headBytes, signal: input.signal, quota, idleMs: deps.uploadIdleTimeoutMs,
      minBytesPerSecond: deps.uploadMinBytesPerSecond,
    });
  }

  /** Without a declared size nothing was reserved: the owner's remaining quota bounds the stream. */
  async function streamQuota(owner: string): Promise<StreamQuota | undefined> {
    const quota = await repos.quotas.get(owner);
    const { availableBytes } = quotaView(quota, deps.quotaDefaultBytes);
    if (availableBytes === null) return undefined;
    return { availableBytes, exceeded: (bytes) => quotaExceeded(quota, deps.quotaDefaultBytes, bytes) };
  }

  /**
   * Content checks on measured bytes; the caller discards them when this throws.
   * Returns the sniffed type.
   */
  async function check(expect: ContentExpectations, measured: MeasuringStream, staged?: StagedObject): Promise<string> {
    if (measured.bytes === 0) throw new AppError("empty_body", "the upload is empty");
    if (expect.size !== undefined && expect.size !== measured.bytes) {
      throw new AppError("size_mismatch", `${measured.bytes} bytes arrived but the upload declared ${expect.size}`, {
        expected: expect.size, actual: measured.bytes,
      });
    }
    if (expect.sha256 && expect.sha256 !== measured.sha256) {
      throw new AppError("checksum_mismatch", `the bytes do not match the declared ${expect.digestSource ?? "sha256"}`, {
        expected: expect.sha256, actual: measured.sha256,
      });
    }
    const head = await sniffer.sniff(measured.head);
    // Formats whose structure is not in the head get a second look at the staged bytes.
    const sniffed = staged && sniffer.confirm ? await sniffer.confirm(measured.head, head, staged) : head;
    const typeCheck = checkDeclaredType(expect.declaredType, sniffed);
    if (!typeCheck.ok) {
      throw new AppError("type_mismatch", `declared ${typeCheck.declared} but the content is ${typeCheck.sniffed}`, {
        declared: typeCheck.declared, sniffed: typeCheck.sniffed,
      });
    }
    if (!policy.allows(sniffed)) {
      throw new AppError("type_not_allowed", `${sniffed} is not an allowed type`, { sniffed });
    }
    return sniffed;
  }

  /**
   * Makes checked bytes visible at their content address (or drops them when that content
   * is stored already) and runs `record` to write the rows. The per-content lock orders
   * this against gc in the common case; the database decides when a lock was lost (see
   * db/repos/ingest-writes.ts `referenceBlob`): a live row's bytes are referenced as they
   * are, otherwise the bytes are written under a fresh incarnation's key that no gc has
   * claimed, and only then does the row name them. When `record` fails, an object this
   * call wrote is taken back once the database says nothing can still name it.
   */
  async function place<T extends { blobCreated: boolean }>(sha256: string, staged: StagedObject, record: (at: number, blob: PlacedBlob) => Promise<T>): Promise<T> {
    return locks.withLock(`blob:${sha256}`, async () => {
      let row = await repos.blobs.get(sha256);
      if (row?.state === "live" && (await store.head(row.storageKey))) {
        try {
          const result = await record(clock.now(), { storageKey: row.storageKey });
          await staged.discard();
          return result;
        } catch (error) {
          if (!(error instanceof ContentCollectedError)) {
            await staged.discard();
            throw error;
          }
          // gc claimed the content after we looked (its lock or ours was lost): write again.
          row = await repos.blobs.get(sha256);
        }
      } else if (row?.state === "live") {
        // The object is missing: either gc removed it after claiming the row (the claim is
        // committed before any delete, so reading the row again now sees it), or it was lost.
        row = await repos.blobs.get(sha256);
      }
      const placed: PlacedBlob = row?.state === "live"
        // Referenced but its object is missing from the store: these are the same bytes.
        ? { storageKey: row.storageKey }
        : { storageKey: rawKeyOf(sha256, (row?.generation ?? 0) + 1), generation: (row?.generation ?? 0) + 1 };
      const committed = await staged.commit(placed.storageKey);
      try {
        return await record(clock.now(), placed);
      } catch (error) {
        if (committed === "created" && placed.generation !== undefined) {
          const verdict = await repos.gc.fenceRawOrphan(sha256, placed.generation, placed.storageKey, clock.now()).catch(() => "keep" as const);
          if (verdict === "delete") await store.delete(placed.storageKey).catch(() => {});
        }
        if (error instanceof ContentCollectedError) {
          throw new AppError("state_conflict", "the same content was being removed at the same time; upload it again");
        }
        throw error;
      }
    });
  }

  /** After a commit: what new content needs beyond its asset's jobs. */
  async function placed(sha256: string, created: boolean): Promise<void> {
    if (created) await deps.onNewContent?.(sha256);
  }

  /** The first job for newly verified content: the scan when a scanner is configured. */
  async function startJobs(assetId: string, eager?: readonly string[]): Promise<void> {
    const more = eager?.length ? { eager: [...eager] } : {};
    if (deps.scanning) await queue.enqueue("scan", { assetId, ...more }, { key: assetId });
    else await queue.enqueue("extract-metadata", { assetId, ...more }, { key: assetId });
  }

  async function ingest(input: IngestInput): Promise<AssetRow> {
    checkTags(input.tags);
    const startedAt = clock.now();
    const reserved = input.declaredSize ?? 0;
    if (reserved > 0 && !(await repos.quotas.reserve(input.owner, reserved, deps.quotaDefaultBytes))) {
      const quota = await repos.quotas.get(input.owner);
      throw quotaExceeded(quota, deps.quotaDefaultBytes, reserved);
    }
    let settled = false;
    try {
      const { staged, measured } = await stage(input, reserved > 0 ? undefined : await streamQuota(input.owner));
      const receivedAt = clock.now();
      let contentType: string;
      try {
        contentType = await check({ declaredType: input.declaredType, sha256: input.expectedSha256, digestSource: "Content-Digest" }, measured, staged);
      } catch (error) {
        await staged.discard();
        throw error;
      }

      const sha256 = measured.sha256;
      const id = newAssetId(startedAt);
      const result = await place(sha256, staged, async (verifiedAt, placed) => {
        const recorded = await repos.recordIngest({
          blob: { sha256, size: measured.bytes, ...placed, sniffedType: contentType, at: verifiedAt },
          asset: {
            id, owner: input.owner, filename: input.filename, declaredType: input.declaredType ?? null,
            contentType, kind: kindOf(contentType), size: measured.bytes, public: input.public, tags: input.tags,
            createdAt: startedAt,
          },
          events: [
            { from: null, to: "pending", reason: "upload started", at: startedAt },
            ...arrivalEvents({ bytes: measured.bytes, contentType, receivedAt, verifiedAt }),
          ],
          quota: { reserved, defaultMaxBytes: deps.quotaDefaultBytes },
        });
        settled = true;
        return recorded;
      });

      metrics.ingested(measured.bytes, !result.blobCreated);
      logger.info({ assetId: id, sha256, bytes: measured.bytes, contentType, deduplicated: !result.blobCreated }, "asset ingested");
      await placed(sha256, result.blobCreated);
      input.onStored?.({ deduplicated: !result.blobCreated });
      await startJobs(id, input.eager);
      return result.asset;
    } finally {
      if (!settled && reserved > 0) await repos.quotas.release(input.owner, reserved).catch(() => {});
    }
  }

  return { ingest, check, place, placed, startJobs };
}

export type IngestService = ReturnType<typeof createIngestService>;
