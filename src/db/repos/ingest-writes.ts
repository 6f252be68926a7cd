import type { Kysely } from "kysely";
import type { AssetStatus } from "../../domain/states.js";
import type { IngestRecord } from "../../ports/repos.js";
import type { Database } from "../schema.js";

/**
 * The writes a direct ingest (repos/ingest.ts) and an upload completion (repos/uploads.ts)
 * share, inside their transactions: a reference on the content's blob row and the
 * asset's state history.
 */

/** A concurrent gc may delete the blob row between our two statements; this many tries. */
const BLOB_UPSERT_TRIES = 3;

/**
 * Takes one reference on a blob, inserting its row when absent. Two statements rather than
 * `ON CONFLICT DO UPDATE ... RETURNING refcount` because "created" must mean "this call
 * inserted the row", and a refcount of 1 can also be a row revived from 0 before gc.
 * On PostgreSQL the INSERT waits for a concurrent inserter of the same key to commit, then
 * does nothing; the UPDATE then increments the committed row under its row lock.
 */
export async function referenceBlob(trx: Kysely<Database>, blob: IngestRecord["blob"]): Promise<{ created: boolean; refcount: number }> {
  for (let attempt = 0; attempt < BLOB_UPSERT_TRIES; attempt++) {
    const inserted = await trx
      .insertInto("blob")
      .values({
        sha256: blob.sha256,
        size: blob.size,
        storage_key: blob.storageKey,
        sniffed_type: blob.sniffedType,
        refcount: 1,
        created_at: blob.at,
      })
      .onConflict((oc) => oc.column("sha256").doNothing())
      .returning("refcount")
      .executeTakeFirst();
    if (inserted) return { created: true, refcount: Number(inserted.refcount) };
    const updated = await trx
      .updateTable("blob")
      .set((eb) => ({ refcount: eb("refcount", "+", 1) }))
      .where("sha256", "=", blob.sha256)
      .returning("refcount")
      .executeTakeFirst();
    if (updated) return { created: false, refcount: Number(updated.refcount) };
  }
  throw new Error(`blob ${blob.sha256} kept disappearing while being referenced`);
}

/** Appends state changes to an asset's event log, in order. */
export async function appendEvents(
  trx: Kysely<Database>,
  assetId: string,
  events: ReadonlyArray<{ from: AssetStatus | null; to: AssetStatus; reason: string; at: number }>,
): Promise<void> {
  await trx
    .insertInto("asset_event")
    .values(events.map((e) => ({ asset_id: assetId, from_status: e.from, to_status: e.to, reason: e.reason, at: e.at })))
    .execute();
}
