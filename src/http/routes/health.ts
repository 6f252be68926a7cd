import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app.js";

/** Liveness, dependency readiness and Prometheus metrics. */
export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Installed tools do not change while the process runs: ask once.
  let tools: Promise<unknown[]> | undefined;
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const checks: Record<string, { ok: boolean; error?: string }> = {};
    const probe = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
        checks[name] = { ok: true };
      } catch (error) {
        checks[name] = { ok: false, error: (error as Error).message };
      }
    };
    await Promise.all([
      probe("database", () => deps.repos.ping()),
      probe("store", () => deps.store.ping()),
      probe("queue", async () => void (await deps.queue.depth())),
    ]);
    const ok = Object.values(checks).every((c) => c.ok);
    // Media tools are optional features: reported, but they do not make the service unready.
    tools ??= Promise.all([...deps.probes.map((probe) => probe.status()), deps.transcoder.status()]);
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ready" : "unavailable", checks, engine: deps.engine.processorVersion, tools: await tools });
  });

  app.get("/metrics", async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
