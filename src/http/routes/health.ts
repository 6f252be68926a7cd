import type { FastifyInstance } from "fastify";
import type { HttpMetrics } from "../../ports/metrics.js";
import type { StatusService } from "../../services/status.js";

export interface HealthRouteDeps {
  status: Pick<StatusService, "readiness">;
  metrics: Pick<HttpMetrics, "render">;
}

/** Liveness, dependency readiness and Prometheus metrics. */
export async function healthRoutes(app: FastifyInstance, deps: HealthRouteDeps): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const { ready, checks, engine, tools } = await deps.status.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "unavailable", checks, engine, tools });
  });

  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });
}
