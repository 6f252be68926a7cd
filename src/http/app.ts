import cors from "@fastify/cors";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from "fastify";
import type { Logger as PinoLogger } from "pino";
import type { Tokens } from "../auth/jwt.js";
import { AppError } from "../domain/errors.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { ImageEngine } from "../ports/image-engine.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { FrameSource } from "../ports/frame-source.js";
import type { MediaProbe } from "../ports/media-probe.js";
import type { HlsService } from "../services/hls.js";
import type { Repos } from "../ports/repos.js";
import type { MetricsRegistry } from "../observability/metrics.js";
import type { AssetService } from "../services/assets.js";
import type { DeliveryService } from "../services/deliver.js";
import type { IngestService } from "../services/ingest.js";
import type { SimilarService } from "../services/similar.js";
import type { UploadService } from "../services/uploads.js";
import type { Capabilities } from "../main.js";
import type { DataStore } from "@tus/server";
import { authenticate } from "./auth.js";
import { errorHandler, sendError } from "./errors.js";
import { adminRoutes } from "./routes/admin.js";
import { assetRoutes } from "./routes/assets.js";
import { deliveryRoutes } from "./routes/delivery.js";
import { healthRoutes } from "./routes/health.js";
import { hlsRoutes } from "./routes/hls.js";
import { similarRoutes } from "./routes/similar.js";
import { statsRoutes } from "./routes/stats.js";
import { tusRoutes } from "./routes/tus.js";
import { uploadRoutes } from "./routes/uploads.js";

export interface AppDeps {
  publicUrl: string | undefined;
  /** ["*"] or exact origins allowed to call the API from a browser. */
  corsOrigins: readonly string[];
  maxUploadBytes: number;
  tokens: Tokens;
  ingest: IngestService;
  assets: AssetService;
  delivery: DeliveryService;
  similar: SimilarService;
  repos: Repos;
  store: BlobStore;
  queue: JobQueue;
  engine: ImageEngine;
  probes: readonly MediaProbe[];
  frames: readonly FrameSource[];
  hls: HlsService;
  /** ffmpeg for HLS ladders: its availability is reported and checked before queueing work. */
  transcoder: { status(): Promise<{ available: boolean; version?: string; reason?: string }> };
  metrics: MetricsRegistry;
  logger?: PinoLogger;
  uploads: UploadService;
  /** null: no per-owner limit unless an admin sets one. */
  quotaDefaultBytes: number | null;
  capabilities: Capabilities;
  /** The tus datastore; undefined: no resumable uploads. */
  tus: { datastore: DataStore } | undefined;
}

/** Response headers browser code may read (delivery, uploads, waiting). */
const EXPOSED_HEADERS = [
  "ETag", "Location", "Content-Length", "Content-Range", "Content-Disposition", "Accept-Ranges", "Retry-After",
  "X-Cache", "Server-Timing", "Preference-Applied",
];

/** Builds the HTTP app without listening, so tests can `inject()` or `listen()` it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    // Per-request log lines cost more than a cached variant hit; metrics cover requests.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });

  app.decorateRequest("caller", null);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => sendError(reply, new AppError("not_found", "no such route")));

  app.addHook("onRequest", async (request) => {
    await authenticate(request, deps.tokens);
  });
  app.addHook("onResponse", async (request, reply) => {
    deps.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });


  await app.register(async (api) => {
    // Bearer tokens, not cookies: letting an origin call the API exposes nothing a token
    // does not already grant. Preflights are answered before authentication. The tus
    // routes (registered outside this scope) answer CORS the tus way themselves.
    await api.register(cors, {
      origin: deps.corsOrigins.includes("*") ? "*" : [...deps.corsOrigins],
      methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    });
    await api.register(healthRoutes, deps);
    await api.register(statsRoutes, deps);
    await api.register(assetRoutes, deps);
    await api.register(similarRoutes, deps);
    await api.register(deliveryRoutes, deps);
    await api.register(hlsRoutes, deps);
    await api.register(adminRoutes, deps);
    await api.register(uploadRoutes, deps);
  });
  await app.register(tusRoutes, deps);
  return app;
}
