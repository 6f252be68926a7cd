import cors from "@fastify/cors";
import type { DataStore } from "@tus/server";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger as PinoLogger } from "pino";
import { registerTracing } from "./tracing.js";
import type { Capabilities } from "../domain/capabilities.js";
import { AppError } from "../domain/errors.js";
import type { TrustedHost } from "../domain/trusted-hosts.js";
import type { HttpMetrics } from "../ports/metrics.js";
import type { TokenVerifier } from "../ports/token-verifier.js";
import type { Tracer } from "../ports/tracer.js";
import type { AssetService } from "../services/assets.js";
import type { DeliveryService } from "../services/deliver.js";
import type { HlsService } from "../services/hls.js";
import type { StoryboardService } from "../services/storyboard.js";
import type { IngestService } from "../services/ingest.js";
import type { ImportService } from "../services/imports.js";
import type { WebhookService } from "../services/webhooks.js";
import type { MaintenanceService } from "../services/maintenance.js";
import type { PrewarmService } from "../services/prewarm.js";
import type { QuotaService } from "../services/quotas.js";
import type { SimilarService } from "../services/similar.js";
import type { VariantListing } from "../services/variant-list.js";
import type { StatusService } from "../services/status.js";
import type { AclService } from "../services/acl.js";
import type { SignedUrlService } from "../services/signed-urls.js";
import type { TokenService } from "../services/tokens.js";
import type { UploadService } from "../services/uploads.js";
import { authenticate, requireWriteScope } from "./auth.js";
import { errorHandler, sendError } from "./errors.js";
import { isDocsRoute, registerOpenApi } from "./openapi/index.js";
import { registerRateLimit, type RateLimitOptions } from "./rate-limit.js";
import { aclRoutes } from "./routes/acl.js";
import { consoleRoutes, defaultConsoleDir } from "./routes/console.js";
import { adminRoutes } from "./routes/admin.js";
import { assetRoutes } from "./routes/assets.js";
import { deliveryRoutes } from "./routes/delivery.js";
import { healthRoutes } from "./routes/health.js";
import { hlsRoutes } from "./routes/hls.js";
import { importRoutes } from "./routes/imports.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { storyboardRoutes } from "./routes/storyboard.js";
import { similarRoutes } from "./routes/similar.js";
import { variantRoutes } from "./routes/variants.js";
import { statsRoutes } from "./routes/stats.js";
import { storeCareRoutes } from "./routes/store-care.js";
import type { StoreCareService } from "../services/store-care.js";
import { tusRoutes } from "./routes/tus.js";
import { uploadRoutes } from "./routes/uploads.js";
import { loginRoutes } from "./routes/login.js";
import type { LoginCodeService } from "../services/login-codes.js";

/** What the HTTP app is built from: use cases, two ports (tokens, metrics) and plain settings. */
export interface AppDeps {
  publicUrl: string | undefined;
  /** Host headers manifests may be built on while publicUrl is unset. */
  trustedHosts: readonly TrustedHost[];
  /** Peers whose X-Forwarded-For/-Proto/-Host are believed (Fastify's trustProxy); false: none. */
  trustProxy?: false | number | readonly string[];
  /** ["*"] or exact origins allowed to call the API from a browser. */
  corsOrigins: readonly string[];
  maxUploadBytes: number;
  capabilities: Capabilities;
  tokens: TokenVerifier;
  metrics: HttpMetrics;
  logger?: PinoLogger;
  ingest: IngestService;
  imports: ImportService;
  /** Webhook subscriptions; undefined: no /v1/webhooks. */
  webhooks?: WebhookService;
  assets: AssetService;
  delivery: DeliveryService;
  similar: SimilarService;
  /** GET /v1/assets/:id/variants. */
  variants: VariantListing;
  hls: HlsService;
  /** Video storyboards (sprite + WebVTT); undefined: not served. */
  storyboards?: StoryboardService;
  uploads: UploadService;
  maintenance: MaintenanceService;
  /** Demand prediction on demand (`POST /v1/admin/prewarm`). */
  prewarm?: Pick<PrewarmService, "run">;
  quotas: QuotaService;
  status: StatusService;
  acl: AclService;
  signedUrls: SignedUrlService;
  /** Token revocation (the admin endpoint). */
  tokenService: TokenService;
  /** One-time console sign-in links. */
  loginCodes: LoginCodeService;
  /** ASSETD_RATE_LIMIT, counted in Redis when one is given. */
  rateLimit: RateLimitOptions;
  /** ASSETD_METRICS_TOKEN: the bearer token /metrics needs; undefined: open. */
  metricsToken: string | undefined;
  /** The tus datastore; undefined: no resumable uploads. */
  tus: { datastore: DataStore } | undefined;
  /** Slow clients: headers deadline, connection idle limit (0: none) and keep-alive. */
  timeouts?: { headersMs: number; idleMs: number; keepAliveMs: number };
  /** Server spans per request; absent or disabled: none. */
  tracer?: Tracer;
  /** Scrub and lifecycle passes, tiers and replicas (admin endpoints, manifest `storage`). */
  storeCare?: StoreCareService;
  /** The built web console served at `/`; default: dist/web of this package. */
  consoleDir?: string;
  /** ASSETD_CLIENT_HINTS. */
  clientHints?: boolean;
}

/** Response headers browser code may read (delivery, uploads, waiting). */
const EXPOSED_HEADERS = [
  "ETag", "Location", "Content-Length", "Content-Range", "Content-Disposition", "Accept-Ranges", "Retry-After",
  "X-Cache", "Server-Timing", "Preference-Applied", "Asset-Deduplicated",
];

/** Builds the HTTP app without listening, so tests can `inject()` or `listen()` it. */
/** A hop count as proxy-addr's own rule (trust the n nearest peers), which Fastify's types leave out. */
function trustProxyOption(trust: false | number | readonly string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === "number") return (_address, hop) => hop < trust;
  return trust === false ? false : [...trust];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    trustProxy: trustProxyOption(deps.trustProxy ?? false),
    // Per-request log lines cost more than a cached variant hit; metrics cover requests.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Slow-loris clients (DESIGN §10): a connection silent both ways for `idleMs` is closed,
    // whatever it was doing. Not a total request deadline: a multi-GB upload legitimately
    // takes longer than any such deadline; upload bodies also have their own idle limit.
    ...(deps.timeouts ? { connectionTimeout: deps.timeouts.idleMs, keepAliveTimeout: deps.timeouts.keepAliveMs } : {}),
  });
  // Headers trickled a byte at a time: Node answers 408 and closes after this.
  if (deps.timeouts) app.server.headersTimeout = deps.timeouts.headersMs;

  app.decorateRequest("caller", null);
  if (deps.tracer) registerTracing(app, deps.tracer);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => sendError(reply, new AppError("not_found", "no such route")));

  app.addHook("onRequest", async (request) => {
    // /metrics answers its own token (ASSETD_METRICS_TOKEN), which is not a user's JWT.
    if (request.routeOptions.url === "/metrics") return;
    // The API reference is public: a stale token in the browser must not hide it.
    if (isDocsRoute(request.routeOptions.url)) return;
    await authenticate(request, deps.tokens);
    requireWriteScope(request);
  });
  app.addHook("onResponse", async (request, reply) => {
    deps.metrics.requestFinished(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
  });
  await registerRateLimit(app, deps.rateLimit);
  // Before every route: the document describes the routes registered after it.
  await registerOpenApi(app, { publicUrl: deps.publicUrl });

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
    const { publicUrl, trustedHosts, delivery } = deps;
    await api.register(healthRoutes, { status: deps.status, metrics: deps.metrics, metricsToken: deps.metricsToken });
    await api.register(statsRoutes, { status: deps.status });
    await api.register(assetRoutes, {
      publicUrl, trustedHosts, delivery, maxUploadBytes: deps.maxUploadBytes, ingest: deps.ingest, assets: deps.assets, hls: deps.hls, quotas: deps.quotas,
      ...(deps.storeCare ? { placementOf: deps.storeCare.placementOf } : {}),
    });
    await api.register(importRoutes, { publicUrl, trustedHosts, delivery, imports: deps.imports });
    if (deps.webhooks) await api.register(webhookRoutes, { webhooks: deps.webhooks });
    await api.register(similarRoutes, { publicUrl, trustedHosts, delivery, similar: deps.similar });
    await api.register(variantRoutes, { variants: deps.variants });
    await api.register(deliveryRoutes, { delivery, signedUrls: deps.signedUrls, clientHints: deps.clientHints === true });
    await api.register(hlsRoutes, { hls: deps.hls, signedUrls: deps.signedUrls });
    if (deps.storyboards) await api.register(storyboardRoutes, { storyboards: deps.storyboards, signedUrls: deps.signedUrls });
    await api.register(aclRoutes, { publicUrl, trustedHosts, acl: deps.acl, signedUrls: deps.signedUrls });
    if (deps.storeCare) await api.register(storeCareRoutes, { care: deps.storeCare });
    await api.register(adminRoutes, {
      maintenance: deps.maintenance, quotas: deps.quotas, tokens: deps.tokenService, ...(deps.prewarm ? { prewarm: deps.prewarm } : {}),
    });
    await api.register(loginRoutes, { publicUrl, trustedHosts, loginCodes: deps.loginCodes });
    await api.register(uploadRoutes, { publicUrl, trustedHosts, delivery, uploads: deps.uploads, capabilities: deps.capabilities });
  });
  await app.register(consoleRoutes, { dir: deps.consoleDir ?? defaultConsoleDir() });
  await app.register(tusRoutes, {
    publicUrl: deps.publicUrl, corsOrigins: deps.corsOrigins, maxUploadBytes: deps.maxUploadBytes, uploads: deps.uploads, tus: deps.tus,
  });
  return app;
}
