import { sql, type Kysely } from "kysely";
import type { ClaimedBlob, CollectableBlob, CounterRepo, GcRepo } from "../../ports/gc.js";
import type { Database } from "../schema.js";

/** Rows per page when streaming the (owner, content) pairs for the HLS orphan check. */
const HELD_PAGE = 5_000;

/**
 * The garbage collector's side of the database. The blob row's state and generation are
 * the arbiter (see ports/gc.ts): every decision to delete bytes is a compare-and-set here.
 */
export function createGcRepo(db: Kysely<Database>): GcRepo {
  return {
    async collectable(releasedBefore, limit, afterSha256) {
      let q = db.selectFrom("blob").select(["sha256", "generation", "storage_key", "size", "state"])
        .where((eb) => eb.or([
          eb.and([eb("refcount", "=", 0), eb("state", "=", "live"), eb("released_at", "<=", releasedBefore)]),
          eb("state", "=", "collecting"),
        ]));
      if (afterSha256 !== undefined) q = q.where("sha256", ">", afterSha256);
      const rows = await q.orderBy("sha256").limit(limit).execute();
      return rows.map((r) => ({
        sha256: r.sha256, generation: Number(r.generation), storageKey: r.storage_key, size: Number(r.size),
        state: r.state as CollectableBlob["state"],
      }));
    },

    claim(blob, releasedBefore, at) {
      return db.transaction().execute(async (trx): Promise<ClaimedBlob | undefined> => {
        const claimed = await trx
          .updateTable("blob")
          .set({ state: "collecting", released_at: at })
          .where("sha256", "=", blob.sha256)
          .where("generation", "=", blob.generation)
          .where("refcount", "=", 0)
          .where((eb) => eb.or([
            eb.and([eb("state", "=", "live"), eb("released_at", "<=", releasedBefore)]),
            eb("state", "=", "collecting"),
          ]))
          .returning(["storage_key", "size"])
          .executeTakeFirst();
        if (!claimed) return undefined;
        const variants = await trx.deleteFrom("variant").where("blob_sha256", "=", blob.sha256)
          .returning(["storage_key", "size"]).execute();
        const owners = await trx.selectFrom("asset").select("owner").distinct().where("blob_sha256", "=", blob.sha256).execute();
        return {
          ...blob, state: "collecting", storageKey: claimed.storage_key, size: Number(claimed.size),
          variants: variants.map((v) => ({ storageKey: v.storage_key, size: Number(v.size) })),
          owners: owners.map((o) => o.owner),
        };
      });
    },

    async finish(sha256, generation) {
      const result = await db.updateTable("blob").set({ state: "gone" })
        .where("sha256", "=", sha256).where("generation", "=", generation).where("state", "=", "collecting")
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    fenceRawOrphan(sha256, generation, key, at) {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom("blob").select(["state", "generation", "storage_key"]).where("sha256", "=", sha256).executeTakeFirst();
        if (!row) {
          // An ingest of generation 1 may be between writing these bytes and inserting its
          // row: the tombstone makes its insert find a row that is not live, so it fails
          // (nothing acknowledged) instead of naming bytes about to be deleted.
          const inserted = await trx.insertInto("blob")
            .values({ sha256, size: 0, storage_key: key, sniffed_type: "application/octet-stream", refcount: 0, created_at: at, state: "gone", generation, released_at: at })
            .onConflict((oc) => oc.column("sha256").doNothing())
            .returning("sha256")
            .executeTakeFirst();
          return inserted ? "delete" : "keep";
        }
        if (row.storage_key === key && row.state !== "gone") return "keep";
        if (row.state === "collecting") return "keep";
        const rowGeneration = Number(row.generation);
        if (row.state === "gone" && rowGeneration === generation - 1) {
          // An ingest may be about to revive the row with exactly this key: move the row's
          // generation past it, so that revive's compare-and-set fails.
          const fenced = await trx.updateTable("blob").set({ generation })
            .where("sha256", "=", sha256).where("state", "=", "gone").where("generation", "=", rowGeneration)
            .executeTakeFirst();
          return fenced.numUpdatedRows > 0n ? "delete" : "keep";
        }
        // A live row of another incarnation, or an incarnation no ingest can revive any more.
        return "delete";
      });
    },

    async variantKeysKnown(keys) {
      if (keys.length === 0) return new Set();
      const rows = await db.selectFrom("variant").select("storage_key").where("storage_key", "in", [...keys]).execute();
      return new Set(rows.map((r) => r.storage_key));
    },

    async *heldContent() {
      let after = "";
      for (;;) {
        const rows = await db.selectFrom("asset").select(["id", "owner", "blob_sha256"])
          .where("blob_sha256", "is not", null).where("purged_at", "is", null).where("id", ">", after)
          .orderBy("id").limit(HELD_PAGE).execute();
        for (const r of rows) yield { owner: r.owner, sha256: r.blob_sha256! };
        if (rows.length < HELD_PAGE) return;
        after = rows[rows.length - 1]!.id;
      }
    },
  };
}

export function createCounterRepo(db: Kysely<Database>): CounterRepo {
  return {
    async add(deltas) {
      const entries = [...deltas].filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b));
      if (entries.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const [name, value] of entries) {
          await trx.insertInto("stat_counter").values({ name, value })
            .onConflict((oc) => oc.column("name").doUpdateSet({ value: sql<number>`stat_counter.value + excluded.value` }))
            .execute();
        }
      });
    },
    async all() {
      const rows = await db.selectFrom("stat_counter").selectAll().execute();
      return Object.fromEntries(rows.map((r) => [r.name, Number(r.value)]));
    },
  };
}
