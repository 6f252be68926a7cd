import { sql, type Expression, type ExpressionBuilder, type SqlBool } from "kysely";
import type { AssetFilter, Visibility } from "../../ports/repos.js";
import type { Database } from "../schema.js";

type AssetEb = ExpressionBuilder<Database, "asset">;

/** `%`, `_` and the escape character itself match literally in the user's search text. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The WHERE clause of a listing. Visibility first (what the caller may see), then the
 * filters the caller asked for. Unset filters add nothing.
 */
export function assetWhere(filter: AssetFilter, visibility: Visibility) {
  return (eb: AssetEb): Expression<SqlBool> => {
    const terms: Expression<SqlBool>[] = [];

    if (visibility.kind === "principal" && filter.status === "deleted") {
      // The trash: only one's own deleted assets that can still be restored.
      terms.push(visibility.owner === null ? sql<SqlBool>`1 = 0` : eb("asset.owner", "=", visibility.owner));
      terms.push(eb("asset.purged_at", "is", null));
      terms.push(eb("asset.trashed_from", "is not", null));
    } else if (visibility.kind === "principal") {
      // Own, public (the `*` read grant, stored on the row) or granted to one of the
      // caller's principals; any permission includes seeing the asset. Anonymous callers
      // see public assets only. The grant probe is one lookup in asset_acl's primary key
      // per candidate row, so a listing stays a walk of the asset index in id order.
      const granted = eb.exists(
        eb.selectFrom("asset_acl").select(sql.lit(1).as("one"))
          .whereRef("asset_acl.asset_id", "=", "asset.id")
          .where("asset_acl.principal", "in", [...visibility.principals]),
      );
      terms.push(visibility.owner === null
        ? eb("asset.public", "=", 1)
        : eb.or([eb("asset.owner", "=", visibility.owner), eb("asset.public", "=", 1), granted]));
    }

    if (filter.status !== undefined) {
      terms.push(eb("asset.status", "=", filter.status));
    } else {
      // Default listings hide deleted assets and direct uploads that never completed
      // (DESIGN §5 pinned details). coalesce: `failure_code = ...` is NULL, not false,
      // for rows without a failure, and NOT NULL would hide them too.
      terms.push(eb("asset.status", "<>", "deleted"));
      terms.push(eb.not(eb.and([eb("asset.status", "=", "failed"), eb(eb.fn.coalesce("asset.failure_code", sql.lit("")), "=", "upload_aborted")])));
    }

    if (filter.kind !== undefined) terms.push(eb("asset.kind", "=", filter.kind));
    if (filter.owner !== undefined) terms.push(eb("asset.owner", "=", filter.owner));

    for (const [key, value] of filter.tags ?? []) {
      terms.push(
        eb.exists(
          eb
            .selectFrom("asset_tag")
            .select(sql.lit(1).as("one"))
            .whereRef("asset_tag.asset_id", "=", "asset.id")
            .where("asset_tag.key", "=", key)
            .where("asset_tag.value", "=", value),
        ),
      );
    }

    if (filter.q !== undefined && filter.q !== "") {
      // lower() on both sides, in SQL, so each database folds case the same way for the
      // column and the pattern (PostgreSQL's LIKE is case-sensitive, SQLite's is not).
      terms.push(sql<SqlBool>`lower(${eb.ref("asset.filename")}) like lower(${likeContains(filter.q)}) escape '\\'`);
    }

    // Half-open [after, before): adjacent ranges tile without overlap or gap.
    if (filter.createdAfter !== undefined) terms.push(eb("asset.created_at", ">=", filter.createdAfter));
    if (filter.createdBefore !== undefined) terms.push(eb("asset.created_at", "<", filter.createdBefore));

    return eb.and(terms);
  };
}
