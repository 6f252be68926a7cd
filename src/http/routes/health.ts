import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../domain/errors.js";
import type { HttpMetrics } from "../../ports/metrics.js";
import type { StatusService } from "../../services/status.js";

export interface HealthRouteDeps {
  status: Pick<StatusService, "readiness">;
  metrics: Pick<HttpMetrics, "render">;
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
}

/** Compared as digests of equal length, in constant time: the answer's timing says nothing of the token. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Liveness, dependency readiness and Prometheus metrics. */
export async function healthRoutes(app: FastifyInstance, deps: HealthRouteDeps): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    const { ready, checks, engine, tools } = await deps.status.readiness(request.caller);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "unavailable", checks, engine, tools });
  });

  // Counters such as dedup savings move with other tenants' uploads: on a reachable port
  // they are a side channel, so deployments put them behind a token.
  app.get("/metrics", async (request, reply) => {
    if (deps.metricsToken !== undefined) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
      if (!sameSecret(given, deps.metricsToken)) throw new AppError("unauthorized", "/metrics needs the metrics bearer token");
    }
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });
}
