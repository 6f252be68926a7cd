import { pipeline } from "node:stream";
import type { Readable } from "node:stream";
import { rawKey } from "../domain/content-address.js";
import { AppError } from "../domain/errors.js";
import { newAssetId } from "../domain/ids.js";
import { checkDeclaredType, kindOf, type TypePolicy } from "../domain/media-types.js";
import type { BlobStore, StagedObject } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { Locks } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { AssetRow, Repos } from "../ports/repos.js";
import type { Sniffer } from "../ports/sniffer.js";
import { MeasuringStream } from "./measure.js";

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
  /** A virus scanner is configured: new content is scanned before anything else. */
  scanning: boolean;
}

export interface IngestInput {
  body: Readable;
  owner: string;
  filename: string;
  /** Normalised; undefined when the client declared nothing. */
  declaredType: string | undefined;
  /** From `Content-Digest`: the bytes must hash to this (hex) or nothing is kept. */
  expectedSha256?: string;
  public: boolean;
  tags: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Direct streaming ingest: hash and sniff while the bytes land in staging, check them,
 * then make them visible at their content address (or drop them when that content is
 * already stored) and record the asset as `verified` in one transaction. Any failure
 * before that point leaves no object and no row.
 */
export function createIngestService(deps: IngestDeps) {
  const { store, repos, locks, queue, sniffer, policy, clock, metrics, logger } = deps;

  async function stage(input: IngestInput): Promise<{ staged: StagedObject; measured: MeasuringStream }> {
    const measured = new MeasuringStream(deps.maxUploadBytes, sniffer.headBytes);
    // pipeline() destroys `measured` when the client's stream fails or aborts, which makes
    // stage() reject and clean up its temp file.
    pipeline(input.body, measured, () => {});
    const staged = await store.stage(measured, input.signal);
    if (staged.size !== measured.bytes) {
      await staged.discard();
      throw new AppError("internal", "staged size differs from the bytes received");
    }
    return { staged, measured };
  }

  /** Content checks on the staged bytes; the caller discards them when this throws. */
  async function check(input: IngestInput, measured: MeasuringStream): Promise<string> {
    if (measured.bytes === 0) throw new AppError("empty_body", "the upload is empty");
    if (input.expectedSha256 && input.expectedSha256 !== measured.sha256) {
      throw new AppError("checksum_mismatch", "the body does not match its Content-Digest", {
        expected: input.expectedSha256, actual: measured.sha256,
      });
    }
    const sniffed = await sniffer.sniff(measured.head);
    const typeCheck = checkDeclaredType(input.declaredType, sniffed);
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

  async function ingest(input: IngestInput): Promise<AssetRow> {
    const startedAt = clock.now();
    const { staged, measured } = await stage(input);
    const receivedAt = clock.now();
    let contentType: string;
    try {
      contentType = await check(input, measured);
    } catch (error) {
      await staged.discard();
      throw error;
    }

    const sha256 = measured.sha256;
    const key = rawKey(sha256);
    const id = newAssetId(startedAt);
    // The per-content lock orders this commit against a concurrent delete of the same
    // content, so a blob is never removed between "it exists" and "refcount + 1".
    const result = await locks.withLock(`blob:${sha256}`, async () => {
      const known = await repos.blobs.get(sha256);
      const present = known ? await store.head(key) : undefined;
      const committed = present ? (await staged.discard(), "existed" as const) : await staged.commit(key);
      const verifiedAt = clock.now();
      try {
        return await repos.recordIngest({
          blob: { sha256, size: measured.bytes, storageKey: key, sniffedType: contentType, at: verifiedAt },
          asset: {
            id, owner: input.owner, filename: input.filename, declaredType: input.declaredType ?? null,
            contentType, kind: kindOf(contentType), size: measured.bytes, public: input.public, tags: input.tags,
            createdAt: startedAt,
          },
          events: [
            { from: null, to: "pending", reason: "upload started", at: startedAt },
            { from: "pending", to: "uploaded", reason: `${measured.bytes} bytes received`, at: receivedAt },
            { from: "uploaded", to: "verified", reason: `sha256 computed, content sniffed as ${contentType}`, at: verifiedAt },
          ],
        });
      } catch (error) {
        // No row points at an object this call created: take it back.
        if (committed === "created" && !known) await store.delete(key).catch(() => {});
        throw error;
      }
    });

    metrics.ingested(measured.bytes, !result.blobCreated);
    logger.info({ assetId: id, sha256, bytes: measured.bytes, contentType, deduplicated: !result.blobCreated }, "asset ingested");
    if (deps.scanning) await queue.enqueue("scan", { assetId: id }, { key: id });
    else await queue.enqueue("extract-metadata", { assetId: id }, { key: id });
    return result.asset;
  }

  return { ingest };
}

export type IngestService = ReturnType<typeof createIngestService>;
