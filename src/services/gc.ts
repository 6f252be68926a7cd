import { hlsRoot } from "../domain/content-address.js";
import { derivedContentKey, type TenantIsolation } from "../domain/tenancy.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { ClaimedBlob } from "../ports/gc.js";
import type { Logger } from "../ports/logger.js";
import type { Repos } from "../ports/repos.js";
import { collectOrphans, type OrphanTally } from "./gc-orphans.js";

export interface GcDeps {
  repos: Pick<Repos, "gc" | "trash" | "counters" | "blobs">;
  store: BlobStore;
  clock: Clock;
  logger: Logger;
  /** Unreferenced blobs and unnamed objects younger than this are left alone. */
  graceMs: number;
  /** Trash entries older than this are purged. */
  trashTtlMs: number;
  tenantIsolation: TenantIsolation;
  /** The upload sweep: expired sessions closed and `uploads/` leftovers removed. */
  sweepUploads?: () => Promise<{ sessions: number; multipart: number; objects: number }>;
}

export interface Tally {
  found: number;
  removed: number;
  bytes: number;
}

export interface GcReport {
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  /** Trash entries past the TTL: found, and purged (their content reference released). */
  trash: { found: number; purged: number };
  /** Unreferenced content (originals) collected, with their variants and HLS ladders below. */
  blobs: Tally;
  variants: Tally;
  hls: Tally;
  /** Objects under raw/, variants/ and hls/ that no row names, older than the grace period. */
  orphans: OrphanTally;
  /** Staging leftovers (`.part` files, staged objects, abandoned multipart uploads). */
  staging: { found: number; removed: number };
  /** The upload sweep's figures (expired sessions, `uploads/` leftovers); absent in a dry run. */
  uploads?: { sessions: number; multipart: number; objects: number };
  /** Totals over every area above. */
  found: number;
  removed: number;
  bytesCollected: number;
  /** Deletes that failed; the next pass tries again. */
  errors: number;
}

export interface GcOptions {
  dryRun?: boolean;
  /** Called after each phase and every few hundred items. */
  onProgress?: (phase: string, report: GcReport) => void;
}

/** Blobs considered per query. */
const PAGE = 500;

const tally = (): Tally => ({ found: 0, removed: 0, bytes: 0 });

/**
 * The garbage collector (DESIGN §6, §10 "Operations"). It decides from the database and
 * deletes only what a compare-and-set there gave it: trash past its TTL is purged; a blob
 * with refcount 0 past the grace period is claimed (`live` → `collecting`, variant rows
 * deleted in the same transaction), its HLS ladders (master playlists first, so a
 * half-removed ladder reads as missing), variants and original removed, then marked
 * `gone`. An ingest of the same bytes meanwhile revives the row under a new incarnation
 * with its own key (services/ingest.ts `place`), so a collector that lost its lock and
 * deletes late cannot remove bytes anyone references. Killed at any point, the next pass
 * resumes `collecting` rows and the orphan scan picks up the rest. Idempotent.
 */
export function createGc(deps: GcDeps) {
  const { repos, store, clock, logger } = deps;

  async function expireTrash(report: GcReport, dryRun: boolean): Promise<void> {
    const before = clock.now() - deps.trashTtlMs;
    if (dryRun) {
      report.trash.found = (await repos.trash.expired(before, 100_000)).length;
      return;
    }
    for (;;) {
      const ids = await repos.trash.expired(before, PAGE);
      for (const id of ids) {
        report.trash.found++;
        if (await repos.trash.purge(id, "trash period ended", clock.now())) report.trash.purged++;
      }
      if (ids.length < PAGE) return;
    }
  }

  async function remove(key: string, report: GcReport): Promise<boolean> {
    try {
      await store.delete(key);
      return true;
    } catch (error) {
      report.errors++;
      logger.warn({ err: error, key }, "gc could not delete an object");
      return false;
    }
  }

  async function collectLadders(claimed: ClaimedBlob, report: GcReport): Promise<void> {
    const roots = new Set([claimed.sha256, ...claimed.owners.map((o) => derivedContentKey(claimed.sha256, o, deps.tenantIsolation))]);
    for (const hex of roots) {
      const objects = [];
      for await (const object of store.list(hlsRoot(hex))) objects.push(object);
      // Master playlists first: a ladder without one is "missing", never half-served.
      objects.sort((a, b) => Number(b.key.endsWith("/master.m3u8")) - Number(a.key.endsWith("/master.m3u8")));
      for (const object of objects) {
        report.hls.found++;
        if (await remove(object.key, report)) {
          report.hls.removed++;
          report.hls.bytes += object.size;
        }
      }
    }
  }

  async function collectBlobs(report: GcReport, dryRun: boolean, progress: () => void): Promise<void> {
    const cutoff = clock.now() - deps.graceMs;
    let after: string | undefined;
    for (;;) {
      const page = await repos.gc.collectable(cutoff, PAGE, after);
      for (const blob of page) {
        report.blobs.found++;
        if (dryRun) {
          report.blobs.bytes += blob.size;
          continue;
        }
        const claimed = await repos.gc.claim(blob, cutoff, clock.now());
        if (!claimed) {
          // Referenced again (or changed) since we looked: not ours to collect.
          report.blobs.found--;
          continue;
        }
        const errorsBefore = report.errors;
        await collectLadders(claimed, report);
        for (const variant of claimed.variants) {
          report.variants.found++;
          if (await remove(variant.storageKey, report)) {
            report.variants.removed++;
            report.variants.bytes += variant.size;
          }
        }
        if (!(await remove(claimed.storageKey, report)) || report.errors > errorsBefore) continue; // retried next pass
        if (await repos.gc.finish(claimed.sha256, claimed.generation)) {
          report.blobs.removed++;
          report.blobs.bytes += claimed.size;
        }
      }
      progress();
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.sha256;
    }
  }

  async function run(options: GcOptions = {}): Promise<GcReport> {
    const dryRun = options.dryRun ?? false;
    const started = clock.now();
    const report: GcReport = {
      dryRun, startedAt: new Date(started).toISOString(), durationMs: 0,
      trash: { found: 0, purged: 0 }, blobs: tally(), variants: tally(), hls: tally(),
      orphans: { found: 0, removed: 0, bytes: 0, byArea: {} }, staging: { found: 0, removed: 0 },
      found: 0, removed: 0, bytesCollected: 0, errors: 0,
    };
    const progress = (phase: string) => options.onProgress?.(phase, totals(report, started));

    await expireTrash(report, dryRun);
    progress("trash");
    await collectBlobs(report, dryRun, () => progress("blobs"));
    progress("blobs");
    await collectOrphans({ ...deps, dryRun, report, onProgress: () => progress("orphans") });
    progress("orphans");
    if (store.sweepStaging) {
      const count = await store.sweepStaging(deps.graceMs, { dryRun });
      report.staging = { found: count, removed: dryRun ? 0 : count };
    }
    if (!dryRun && deps.sweepUploads) report.uploads = await deps.sweepUploads();
    totals(report, started);
    if (!dryRun && report.bytesCollected > 0) {
      await repos.counters.add(new Map([["gc_bytes_collected", report.bytesCollected], ["gc_objects_removed", report.removed]]));
    }
    logger.info({ ...report }, dryRun ? "gc dry run" : "gc pass");
    progress("done");
    return report;
  }

  return { run };
}

function totals(report: GcReport, started: number): GcReport {
  const parts = [report.blobs, report.variants, report.hls, report.orphans];
  report.found = parts.reduce((n, p) => n + p.found, 0) + report.staging.found;
  report.removed = parts.reduce((n, p) => n + p.removed, 0) + report.staging.removed;
  report.bytesCollected = parts.reduce((n, p) => n + p.bytes, 0);
  report.durationMs = Date.now() - started;
  return report;
}

export type Gc = ReturnType<typeof createGc>;
