import { parseDerivedKey, parseRawKey } from "../domain/content-address.js";
import { LADDER_VERSION } from "../domain/hls.js";
import { derivedContentKey, type TenantIsolation } from "../domain/tenancy.js";
import type { BlobStore, StoredObject } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Repos } from "../ports/repos.js";

export interface OrphanTally {
  found: number;
  removed: number;
  bytes: number;
  /** Found per area: raw, variants, hls. */
  byArea: Record<string, number>;
}

export interface OrphanScan {
  repos: Pick<Repos, "gc" | "blobs">;
  store: BlobStore;
  clock: Clock;
  logger: Logger;
  graceMs: number;
  tenantIsolation: TenantIsolation;
  dryRun: boolean;
  report: { orphans: OrphanTally; errors: number };
  onProgress: () => void;
}

/** Objects checked against the database per query. */
const BATCH = 500;

/**
 * Objects in the store that no row names (a crash between writing bytes and recording
 * them, a collection cut short, a ladder of content long gone), older than the grace
 * period so that nothing being written right now is touched. A raw object is deleted only
 * after the database fenced any ingest that could still name it (GcRepo.fenceRawOrphan).
 */
export async function collectOrphans(scan: OrphanScan): Promise<void> {
  const { store, repos, report } = scan;
  const cutoff = scan.clock.now() - scan.graceMs;
  const old = (o: StoredObject) => o.modifiedAt !== undefined && o.modifiedAt <= cutoff;

  const drop = async (area: string, object: StoredObject, decide?: () => Promise<boolean>) => {
    report.orphans.found++;
    report.orphans.byArea[area] = (report.orphans.byArea[area] ?? 0) + 1;
    if (scan.dryRun) return;
    try {
      if (decide && !(await decide())) {
        report.orphans.found--;
        report.orphans.byArea[area]!--;
        return;
      }
      await store.delete(object.key);
      report.orphans.removed++;
      report.orphans.bytes += object.size;
    } catch (error) {
      report.errors++;
      scan.logger.warn({ err: error, key: object.key }, "gc could not remove an orphaned object");
    }
  };

  // raw/: originals no live row names.
  for await (const object of store.list("raw/")) {
    if (!old(object)) continue;
    const parsed = parseRawKey(object.key);
    if (!parsed) continue;
    const row = await repos.blobs.get(parsed.sha256);
    if (row && row.storageKey === object.key && row.state !== "gone") continue;
    await drop("raw", object, async () => (await repos.gc.fenceRawOrphan(parsed.sha256, parsed.generation, object.key, scan.clock.now())) === "delete");
  }
  scan.onProgress();

  // variants/: outputs no variant row names.
  let batch: StoredObject[] = [];
  const flush = async () => {
    const known = await repos.gc.variantKeysKnown(batch.map((o) => o.key));
    for (const object of batch) if (!known.has(object.key)) await drop("variants", object);
    batch = [];
  };
  for await (const object of store.list("variants/")) {
    if (!old(object)) continue;
    // A failed async render's marker (render-failures.ts) lives as long as the grace period.
    if (object.key.endsWith(".failed")) {
      await drop("variants", object);
      continue;
    }
    if (!parseDerivedKey(object.key)) continue;
    batch.push(object);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  scan.onProgress();

  // hls/: ladders of content no asset holds any more, and ladders of an older ladder version
  // (`hls/ab/cd/<hex>/<version>/…`), which are never served again.
  let held: Set<string> | undefined;
  for await (const object of store.list("hls/")) {
    if (!old(object)) continue;
    const parsed = parseDerivedKey(object.key);
    if (!parsed) continue;
    if (!held) {
      held = new Set();
      for await (const { owner, sha256 } of repos.gc.heldContent()) {
        held.add(sha256);
        if (scan.tenantIsolation !== "shared") held.add(derivedContentKey(sha256, owner, scan.tenantIsolation));
      }
    }
    if (!held.has(parsed.hex) || object.key.split("/")[4] !== LADDER_VERSION) await drop("hls", object);
  }
  scan.onProgress();
}
