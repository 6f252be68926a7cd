import type { Kysely } from "kysely";
import type { PrewarmRepo } from "../../ports/prewarm.js";
import { toNumber } from "../rows.js";
import type { Database } from "../schema.js";

/** Keys per `in (...)` list: well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;

export function createPrewarmRepo(db: Kysely<Database>): PrewarmRepo {
  return {
    async recordDemand(counts) {
      if (counts.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const c of counts) {
          await trx.insertInto("recipe_demand")
            .values({ owner: c.owner, kind: c.kind, recipe: c.recipe, day: c.day, requests: c.count })
            .onConflict((oc) => oc.columns(["owner", "kind", "day", "recipe"])
              .doUpdateSet((eb) => ({ requests: eb("recipe_demand.requests", "+", eb.ref("excluded.requests")) })))
            .execute();
        }
      });
    },

    async demand(owner, kind, sinceDay, limit) {
      const rows = await db.selectFrom("recipe_demand")
        .select((eb) => ["recipe", eb.fn.sum<string | number>("requests").as("requests"), eb.fn.max<string | number>("day").as("last_day")])
        .where("owner", "=", owner).where("kind", "=", kind).where("day", ">=", sinceDay)
        .groupBy("recipe")
        .orderBy("requests", "desc").orderBy("last_day", "desc").orderBy("recipe")
        .limit(limit)
        .execute();
      return rows.map((row) => ({ recipe: row.recipe, requests: toNumber(row.requests), lastDay: toNumber(row.last_day) }));
    },

    async pruneDemand(beforeDay) {
      const result = await db.deleteFrom("recipe_demand").where("day", "<", beforeDay).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async markRendered(v) {
      const result = await db.insertInto("prewarm_variant")
        .values({ cache_key: v.cacheKey, asset_id: v.assetId, owner: v.owner, kind: v.kind, recipe: v.recipe, rendered_at: v.at, requested_at: null })
        .onConflict((oc) => oc.column("cache_key").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async markRequested(cacheKeys, at) {
      let marked = 0;
      for (let i = 0; i < cacheKeys.length; i += CHUNK) {
        const result = await db.updateTable("prewarm_variant").set({ requested_at: at })
          .where("cache_key", "in", cacheKeys.slice(i, i + CHUNK)).where("requested_at", "is", null)
          .executeTakeFirst();
        marked += Number(result.numUpdatedRows);
      }
      return marked;
    },

    async figures(owner) {
      let query = db.selectFrom("prewarm_variant")
        .select((eb) => [eb.fn.countAll<string | number>().as("variants"), eb.fn.count<string | number>("requested_at").as("requested")]);
      if (owner !== undefined) query = query.where("owner", "=", owner);
      const row = await query.executeTakeFirstOrThrow();
      return { variants: toNumber(row.variants), requested: toNumber(row.requested) };
    },
  };
}
