import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app.js";
import { requirePrincipal } from "../auth.js";
import { quotaView } from "./admin.js";

/** `GET /v1/stats`: an admin sees the whole service, a user their own assets. */
export async function statsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get("/v1/stats", async (request) => {
    const caller = requirePrincipal(request.caller);
    const stats = await deps.repos.stats(caller.admin ? undefined : caller.sub);
    const cache = deps.delivery.cacheCounters();
    const lookups = cache.hits + cache.misses;
    return {
      scope: caller.admin ? "service" : "owner",
      assets: { byStatus: stats.byStatus, byType: stats.byKind },
      logicalBytes: stats.logicalBytes,
      physicalBytes: stats.physicalBytes,
      dedupSavedBytes: Math.max(0, stats.logicalBytes - stats.physicalBytes),
      variants: stats.variants,
      cache: { hits: cache.hits, misses: cache.misses, hitRatio: lookups ? cache.hits / lookups : 0 },
      queues: await deps.queue.depth(),
      ...(caller.admin ? {} : { quota: quotaView(await deps.repos.quotas.get(caller.sub), deps.quotaDefaultBytes) }),
    };
  });
}
