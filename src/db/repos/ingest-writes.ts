import type { Kysely } from "kysely";
import type { AssetStatus } from "../../domain/states.js";
import type { IngestRecord } from "../../ports/repos.js";
import type { Database } from "../schema.js";
import { ContentCollectedError } from "../../ports/gc.js";

/**
 * The writes a direct ingest (repos/ingest.ts) and an upload completion (repos/uploads.ts)
 * share, inside their transactions: a reference on the content's blob row and the
 * asset's state history.
 */

/**
 * Takes one reference on a blob. The row's `state` and `generation` are the arbiter
 * between ingest and gc (DESIGN §10 "Operations", docs/ARCHITECTURE.md "Collecting
 * content"), whatever the locks did:
 *
 * - `blob.generation` set: the caller has just written this incarnation's bytes at
 *   `blob.storageKey`. The row is inserted (generation 1) or revived from `gone` or
 *   `collecting` with a compare-and-set on the generation it read; when someone else made
 *   the row live first, this falls through to a plain reference.
 * - otherwise (or falling through): refcount + 1 on a `live` row only. A live row's bytes
 *   are never deleted (gc claims a row only at refcount 0 and by moving it out of `live`),
 *   so a reference taken here always points at bytes that exist.
 *
 * Throws ContentCollectedError when there is no live row to reference: gc claimed the
 * content after the caller looked, and the caller must write the bytes again.
 */
export async function referenceBlob(trx: Kysely<Database>, blob: IngestRecord["blob"]): Promise<{ created: boolean; refcount: number }> {
  const generation = blob.generation;
  {
    // No row at all: the first incarnation (a caller without `generation` names bytes it
    // placed at `storageKey` as well; rows are never deleted, gc leaves tombstones).
    if (generation === undefined || generation === 1) {
      const inserted = await trx
        .insertInto("blob")
        .values({
          sha256: blob.sha256, size: blob.size, storage_key: blob.storageKey, sniffed_type: blob.sniffedType,
          refcount: 1, created_at: blob.at, state: "live", generation: 1, released_at: null,
        })
        .onConflict((oc) => oc.column("sha256").doNothing())
        .returning("refcount")
        .executeTakeFirst();
      if (inserted) return { created: true, refcount: Number(inserted.refcount) };
    } else if (generation !== undefined) {
      const revived = await trx
        .updateTable("blob")
        .set({
          state: "live", generation, storage_key: blob.storageKey, refcount: 1, released_at: null,
          size: blob.size, sniffed_type: blob.sniffedType, created_at: blob.at, last_verified_at: null, replicated: 0, tier: "hot",
        })
        .where("sha256", "=", blob.sha256)
        .where("generation", "=", generation - 1)
        .where("state", "in", ["gone", "collecting"])
        .returning("refcount")
        .executeTakeFirst();
      if (revived) return { created: true, refcount: Number(revived.refcount) };
    }
  }
  const updated = await trx
    .updateTable("blob")
    .set((eb) => ({ refcount: eb("refcount", "+", 1), released_at: null }))
    .where("sha256", "=", blob.sha256)
    .where("state", "=", "live")
    .returning("refcount")
    .executeTakeFirst();
  if (updated) return { created: false, refcount: Number(updated.refcount) };
  throw new ContentCollectedError(blob.sha256);
}
