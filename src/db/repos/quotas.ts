import { sql, type Kysely } from "kysely";
import { quotaExceeded } from "../../domain/quota.js";
import type { QuotaRepo, QuotaRow } from "../../ports/repos.js";
import type { Database } from "../schema.js";

/**
 * Per-owner byte accounting. Every change is one UPDATE on the owner's row, so on
 * PostgreSQL concurrent sessions queue on the row lock and each re-checks the limit against
 * the committed sums; SQLite serialises writers anyway. Rows are created on first use.
 */

type Db = Kysely<Database>;

const toQuotaRow = (row: { owner: string; max_bytes: number | null; used_bytes: number; reserved_bytes: number }): QuotaRow => ({
  owner: row.owner,
  maxBytes: row.max_bytes === null ? null : Number(row.max_bytes),
  usedBytes: Number(row.used_bytes),
  reservedBytes: Number(row.reserved_bytes),
});

async function ensureRow(db: Db, owner: string): Promise<void> {
  await db.insertInto("quota").values({ owner, max_bytes: null }).onConflict((oc) => oc.column("owner").doNothing()).execute();
}

/** `coalesce(max_bytes, default)`, or no limit at all when both are null. */
function limitOf(defaultMaxBytes: number | null) {
  return defaultMaxBytes === null ? sql<number | null>`max_bytes` : sql<number>`coalesce(max_bytes, cast(${defaultMaxBytes} as bigint))`;
}

/**
 * Adds `bytes` to `column` only when the owner's total then fits their limit. Returns false
 * (and changes nothing) when it would not.
 */
async function addWithinLimit(db: Db, owner: string, changes: { used: number; reserved: number }, defaultMaxBytes: number | null): Promise<boolean> {
  await ensureRow(db, owner);
  const limit = limitOf(defaultMaxBytes);
  const growth = changes.used + changes.reserved;
  const result = await db
    .updateTable("quota")
    .set({
      used_bytes: sql<number>`used_bytes + cast(${changes.used} as bigint)`,
      reserved_bytes: sql<number>`reserved_bytes + cast(${changes.reserved} as bigint)`,
    })
    .where("owner", "=", owner)
    // Shrinking always succeeds; growing must fit.
    .where(sql<boolean>`(cast(${growth} as bigint) <= 0 or ${limit} is null or used_bytes + reserved_bytes + cast(${growth} as bigint) <= ${limit})`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Holds `bytes` of the owner's quota if they fit; false (nothing changed) otherwise. */
export function reserveWithin(db: Db, owner: string, bytes: number, defaultMaxBytes: number | null): Promise<boolean> {
  return addWithinLimit(db, owner, { used: 0, reserved: bytes }, defaultMaxBytes);
}

/** Never below zero: a sum that would go negative is a bookkeeping bug elsewhere. */
export async function adjustQuota(db: Db, owner: string, changes: { used: number; reserved: number }): Promise<void> {
  await ensureRow(db, owner);
  await db
    .updateTable("quota")
    .set({
      used_bytes: sql<number>`case when used_bytes + cast(${changes.used} as bigint) > 0 then used_bytes + cast(${changes.used} as bigint) else 0 end`,
      reserved_bytes: sql<number>`case when reserved_bytes + cast(${changes.reserved} as bigint) > 0 then reserved_bytes + cast(${changes.reserved} as bigint) else 0 end`,
    })
    .where("owner", "=", owner)
    .execute();
}

/**
 * Inside an ingest transaction: charge `size`, release `reserved`; the part of `size` not
 * covered by the reservation must fit, else the transaction is rolled back.
 */
export async function chargeIngest(db: Db, owner: string, size: number, reserved: number, defaultMaxBytes: number | null): Promise<void> {
  const fits = await addWithinLimit(db, owner, { used: size, reserved: -reserved }, defaultMaxBytes);
  if (!fits) {
    const quota = await getQuota(db, owner);
    throw quotaExceeded(quota, defaultMaxBytes, size);
  }
}

export async function getQuota(db: Db, owner: string): Promise<QuotaRow> {
  const row = await db.selectFrom("quota").selectAll().where("owner", "=", owner).executeTakeFirst();
  return row ? toQuotaRow(row) : { owner, maxBytes: null, usedBytes: 0, reservedBytes: 0 };
}

export function createQuotaRepo(db: Db): QuotaRepo {
  return {
    get: (owner) => getQuota(db, owner),

    async list() {
      const rows = await db.selectFrom("quota").selectAll().orderBy("owner").execute();
      return rows.map(toQuotaRow);
    },

    async setLimit(owner, maxBytes) {
      await ensureRow(db, owner);
      await db.updateTable("quota").set({ max_bytes: maxBytes }).where("owner", "=", owner).execute();
      return getQuota(db, owner);
    },

    reserve: (owner, bytes, defaultMaxBytes) => reserveWithin(db, owner, bytes, defaultMaxBytes),

    release: (owner, bytes) => adjustQuota(db, owner, { used: 0, reserved: -bytes }),
  };
}
