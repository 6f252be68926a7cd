import type { FastifyInstance } from "fastify";
import type { StatusService } from "../../services/status.js";
import { requirePrincipal } from "../auth.js";

export interface StatsRouteDeps {
  status: Pick<StatusService, "stats">;
}

/** `GET /v1/stats`: an admin sees the whole service, a user their own assets. */
export async function statsRoutes(app: FastifyInstance, deps: StatsRouteDeps): Promise<void> {
  app.get("/v1/stats", async (request) => deps.status.stats(requirePrincipal(request.caller)));
}
