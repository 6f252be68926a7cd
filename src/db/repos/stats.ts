import type { Kysely } from "kysely";
import type { Stats } from "../../ports/repos.js";
import { toNumber } from "../rows.js";
import type { Database } from "../schema.js";

/**
 * Dashboard figures. Logical bytes count every live asset's size; physical bytes count
 * each distinct blob once, so the difference is what deduplication saved.
 */
export async function stats(db: Kysely<Database>, owner?: string): Promise<Stats> {
  const live = () => {
    let q = db.selectFrom("asset").where("asset.status", "<>", "deleted");
    if (owner !== undefined) q = q.where("asset.owner", "=", owner);
    return q;
  };
  const liveBlobs = () => live().select("asset.blob_sha256").where("asset.blob_sha256", "is not", null).$narrowType<{ blob_sha256: string }>();

  const groups = await live()
    .select((eb) => ["asset.status", "asset.kind", eb.fn.countAll().as("n"), eb.fn.sum("asset.size").as("bytes")])
    .groupBy(["asset.status", "asset.kind"])
    .execute();

  const physical = await db
    .selectFrom("blob")
    .select((eb) => eb.fn.sum("blob.size").as("bytes"))
    .where("blob.sha256", "in", liveBlobs())
    .executeTakeFirstOrThrow();

  let variantQuery = db.selectFrom("variant").select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum("variant.size").as("bytes")]);
  // For one owner: the variants of the blobs that owner's live assets use. A blob shared
  // with another owner's asset counts for both, as each would need it alone.
  if (owner !== undefined) variantQuery = variantQuery.where("variant.blob_sha256", "in", liveBlobs());
  const variants = await variantQuery.executeTakeFirstOrThrow();

  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let logicalBytes = 0;
  for (const g of groups) {
    const n = toNumber(g.n);
    byStatus[g.status] = (byStatus[g.status] ?? 0) + n;
    byKind[g.kind] = (byKind[g.kind] ?? 0) + n;
    logicalBytes += toNumber(g.bytes);
  }
  return {
    byStatus,
    byKind,
    logicalBytes,
    physicalBytes: toNumber(physical.bytes),
    variants: { count: toNumber(variants.n), bytes: toNumber(variants.bytes) },
  };
}
