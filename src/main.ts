import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { createHmac } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger as PinoLogger } from "pino";
import { createTokens, type Tokens } from "./auth/jwt.js";
import { readOrCreateSecret } from "./auth/secret.js";
import type { Config } from "./config/index.js";
import { openDatabase, migrate } from "./db/connect.js";
import { createRepos } from "./db/repos.js";
import { createOperations } from "./main/operations.js";
import type { Gc } from "./services/gc.js";
export type { GcReport } from "./services/gc.js";
import { urlSigningKeys } from "./domain/signed-url.js";
import { TypePolicy } from "./domain/media-types.js";
import { buildApp } from "./http/app.js";
import { createRedisBroadcast } from "./locks/redis-broadcast.js";
import { createCpuBudget } from "./media/cpu-budget.js";
import { createSharpEngine } from "./media/image/engine.js";
import { createHeifDecoder } from "./media/image/heif-decode.js";
import { createHeifProbe } from "./media/image/heif-probe.js";
import { createLocationScrubber } from "./media/image/location-scrubber.js";
import { createSvgSanitiser } from "./media/image/svg-sanitiser.js";
import { createPdfProbe } from "./media/pdf/probe.js";
import { createPdfRenderPool } from "./media/pdf/render-pool.js";
import { createClamdScanner } from "./media/scan/clamd.js";
import { createSniffer } from "./media/sniff.js";
import { createHlsTranscoder } from "./media/video/hls.js";
import { createHlsWorkspaces } from "./media/video/hls-workspace.js";
import { createPosterSource } from "./media/video/poster.js";
import { createStoryboardSource } from "./media/video/storyboard.js";
import { createFfprobe } from "./media/video/probe.js";
import { createLogger } from "./observability/logger.js";
import { createMetricsRegistry, type MetricsRegistry } from "./observability/metrics.js";
import { fillGaugesAtScrape } from "./main/scrape-gauges.js";
import { countingInto, createFleetCounters } from "./services/fleet-counters.js";
import type { BlobStore } from "./ports/blob-store.js";
import { systemClock } from "./ports/clock.js";
import type { JobQueue } from "./ports/job-queue.js";
import type { ToolStatus } from "./ports/transcoder.js";
import type { Repos } from "./ports/repos.js";
import { createAclService } from "./services/acl.js";
import { createAssetService } from "./services/assets.js";
import { createDeliveryService, type DeliveryService } from "./services/deliver.js";
import { createHlsService } from "./services/hls.js";
import { createIngestService } from "./services/ingest.js";
import { createImportService } from "./services/imports.js";
import { createGuardedHttp } from "./net/guarded-http.js";
import { createLocationPrivateOriginals } from "./services/location-private.js";
import { createJobHandlers } from "./services/jobs.js";
import { createMaintenanceService } from "./services/maintenance.js";
import { createQuotaService } from "./services/quotas.js";
import { createSignedUrlService } from "./services/signed-urls.js";
import { createSimilarService } from "./services/similar.js";
import { createStoryboardService } from "./services/storyboard.js";
import { createStatusService } from "./services/status.js";
import { createLoginCodeService, type LoginCodeService } from "./services/login-codes.js";
import { createRevocationCheck, createTokenService, REVOCATION_TOPIC } from "./services/tokens.js";
import { createUploadService } from "./services/uploads.js";
import { createVariantCache, type VariantCache } from "./services/variant-cache.js";
import { createEventRetention } from "./services/event-retention.js";
import { setUpTracing } from "./main/tracing.js";
import { createVariantGraph } from "./services/variant-graph.js";
import { createRenderFailures } from "./services/render-failures.js";
import { createRenderJobs, RENDER_RETRY_AFTER_SECONDS } from "./services/render-jobs.js";
import { createVariantListing } from "./services/variant-list.js";
import { DEFAULT_LADDER } from "./domain/ladder.js";
import { createStorage } from "./storage/index.js";
import { createClientLimits, createCoordination, instrument, withHotMetadata } from "./main/wiring.js";
import { createStoreCare, type StoreCare } from "./main/store-care.js";
import { createPrewarm } from "./main/prewarm.js";
import { capabilitiesOf } from "./main/capabilities.js";
import { createDemandRecorder } from "./services/demand.js";
import type { PrewarmService } from "./services/prewarm.js";
import { createWebhooks } from "./main/webhooks.js";

/**
 * The composition root: the only module that knows every adapter. It turns a Config into
 * a running API and/or worker and knows how to stop them in order.
 */
export interface RuntimeOptions {
  api: boolean;
  worker: boolean;
  logger?: PinoLogger;
}

export interface Runtime {
  config: Config;
  app: FastifyInstance | undefined;
  tokens: Tokens;
  /** One-time console sign-in links (the banner, `assetd login-link`). */
  loginCodes: LoginCodeService;
  repos: Repos;
  store: BlobStore;
  queue: JobQueue;
  metrics: MetricsRegistry;
  delivery: DeliveryService;
  variantCache: VariantCache;
  /** The garbage collector (also on the worker's schedule). */
  gc: Gc;
  storeCare: StoreCare;
  /** Demand prediction (`assetd prewarm`, `POST /v1/admin/prewarm`). */
  prewarm: PrewarmService;
  logger: PinoLogger;
  /**
   * Whether the video tools (ffprobe, ffmpeg) are usable, for the start-up banner. Only
   * these: asking pdfjs would load it into every server that never sees a PDF.
   */
  videoTools(): Promise<ToolStatus[]>;
  /** Starts listening (API role); resolves to the bound address. */
  listen(): Promise<string>;
  /** Starts the worker role (when the runtime was created without it). */
  startWorker(): void;
  close(): Promise<void>;
}

export async function createRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel, config.logFormat);
  await mkdir(config.dataDir, { recursive: true });
  const secret = config.jwtSecret ?? (await readOrCreateSecret(config.dataDir));
  const clock = systemClock;

  const tracing = await setUpTracing(config);
  const database = await openDatabase(config.databaseUrl, {
    onQuery: tracing.onQuery,
    busyTimeoutMs: config.sqliteBusyTimeoutMs,
    onIdleError: (error) => logger.warn({ err: error }, "an idle database connection failed; it will be replaced"),
  });
  await migrate(database.db);
  // A revoked token is refused from then on by every process: announced over Redis at
  // scale, read from the database on every request otherwise (services/tokens.ts).
  const broadcast = config.redisUrl ? createRedisBroadcast(config.redisUrl, { prefix: config.redisPrefix, logger }) : undefined;
  const metricsRegistry = createMetricsRegistry();
  // The hot-metadata cache: every write to an asset's row or grants made through `repos`
  // drops its entry here and is announced to the other processes (services/asset-meta.ts).
  const { repos, assetMeta } = await withHotMetadata(config, createRepos(database.db, database.dialect, clock), { broadcast, clock, metrics: metricsRegistry.metrics, logger });
  // Cache, render and upload figures of the whole deployment, flushed to the database.
  const fleet = createFleetCounters(repos.counters);
  const metrics = countingInto(metricsRegistry.metrics, fleet);
  const revocations = createRevocationCheck(repos.tokens, clock, broadcast);
  await broadcast?.subscribe(REVOCATION_TOPIC, revocations.announced, revocations.forgetAll);
  const tokens = createTokens(secret, { isRevoked: revocations.isRevoked });
  const tokenService = createTokenService({ repo: repos.tokens, identifier: tokens, clock, revocations });
  const loginCodes = createLoginCodeService({ repo: repos.loginCodes, tokens, clock });
  const storage = await createStorage(
    { ...config, grantSecret: createHmac("sha256", secret).update("assetd upload URL grants").digest("base64url") },
    logger,
  );
  const { tus } = storage;
  const coordination = createCoordination(config, database, logger);
  const { locks } = coordination;
  // Jobs carry the enqueuing request's trace (W3C traceparent in the payload).
  const queue = tracing.queue(coordination.queue);
  // One CPU budget for every engine: a render, probe or transcode holds one slot of it.
  const cpu = createCpuBudget({ slots: config.maxTransforms, maxWaiting: config.transformQueue });
  // HEIC pixels come from libheif (WASM) on worker threads, within the engine's CPU slot.
  const heif = createHeifDecoder({ threads: Math.max(1, Math.min(config.maxTransforms, availableParallelism())), timeoutMs: config.renderTimeoutMs });
  const engine = tracing.engine(createSharpEngine({ avifEffort: config.avifEffort, budget: cpu, renderTimeoutMs: config.renderTimeoutMs, heif }));
  const ffprobe = createFfprobe({ budget: cpu });
  const probes = [ffprobe, createPdfProbe({ budget: cpu }), createHeifProbe()];
  // PDF pages render on worker threads under a deadline: a hostile page cannot stall the loop.
  // A page render is synchronous JavaScript: more threads than cores only add heaps.
  const pdfThreads = Math.max(1, Math.min(config.maxTransforms, availableParallelism()));
  const pdfPages = createPdfRenderPool({ threads: pdfThreads, budget: cpu, timeoutMs: config.renderTimeoutMs });
  const frames = [createPosterSource({ budget: cpu }), pdfPages];
  const transcoder = createHlsWorkspaces(createHlsTranscoder({ maxDurationSec: config.maxVideoSeconds, maxPixels: config.maxVideoPixels, budget: cpu }));
  const scanner = config.clamd ? createClamdScanner(config.clamd) : undefined;
  // Replica failover, the cold tier and the passes that look after them (main/store-care.ts).
  const storeCare = await createStoreCare(config, storage.store, { db: database.db, repos, queue, locks, registry: metricsRegistry.registry, clock, logger });
  const store = tracing.store(storeCare.store);
  const limits = { maxInputPixels: config.maxPixels, maxOutputPixels: config.maxOutputPixels };

  const sniffer = createSniffer();
  const policy = new TypePolicy(config.allowedTypes);
  const ingest = tracing.service(createIngestService({
    store, repos, locks, queue, sniffer, policy, clock, metrics, logger,
    maxUploadBytes: config.maxUploadBytes, quotaDefaultBytes: config.quotaDefaultBytes, scanning: scanner !== undefined,
    uploadIdleTimeoutMs: config.uploadIdleTimeoutMs, uploadMinBytesPerSecond: config.uploadMinBytesPerSecond,
    onNewContent: storeCare.onNewContent,
  }), "ingest", ["ingest"]);
  const remoteHttp = createGuardedHttp(config.fetch.allow);
  const imports = createImportService({
    http: remoteHttp, ingest, maxUploadBytes: config.maxUploadBytes,
    timeoutMs: config.fetch.timeoutMs, maxRedirects: config.fetch.maxRedirects,
  });
  const uploads = createUploadService({
    store, transport: storage.transport, repos, locks, clock, logger, metrics, ingest, policy,
    maxUploadBytes: config.maxUploadBytes, quotaDefaultBytes: config.quotaDefaultBytes,
    multipartThreshold: config.multipartThreshold, partSize: config.partSize,
    urlTtlSeconds: config.uploadUrlTtlSeconds, sessionTtlSeconds: config.uploadSessionTtlSeconds,
    headBytes: sniffer.headBytes, uploadIdleTimeoutMs: config.uploadIdleTimeoutMs, uploadMinBytesPerSecond: config.uploadMinBytesPerSecond,
    resumable: tus.staging,
  });
  const assets = createAssetService({
    repos, clock, logger, abortUpload: uploads.abort, quotaDefaultBytes: config.quotaDefaultBytes, restarted: (asset) => ingest.startJobs(asset.id),
    ...(assetMeta ? { deliveryFacts: assetMeta.facts } : {}),
  });
  const operations = createOperations({ config, repos, store, clock, logger, sweepUploads: uploads.sweep });
  const acl = createAclService({ repos, assets, clock });
  const signedUrls = createSignedUrlService({ keys: urlSigningKeys(config.urlSigningKeys, secret), assets, clock, presets: config.presets });
  const clientLimits = createClientLimits(config, options.api);
  const variantCache = createVariantCache({
    repos, store, locks, metrics, logger, budgetBytes: config.variantCacheBytes, flushHits: () => delivery.flushHits(),
  });
  const graph = config.intermediates ? createVariantGraph({
    repos, store, engine, singleFlight: coordination.singleFlight, cpu, metrics, clock, logger, limits, variantCache,
    policy: { ...DEFAULT_LADDER, minSourcePixels: config.intermediateMinPixels }, tenantIsolation: config.tenantIsolation,
  }) : undefined;
  const renderFailures = createRenderFailures(store, clock);
  // Requests per owner, kind and recipe, what prewarm predicts from: written with the hits (delivery.flushHits).
  const demand = createDemandRecorder({ repo: repos.prewarm, clock });
  const delivery = createDeliveryService({
    assets, repos, store, engine, frames, singleFlight: coordination.singleFlight, cpu,
    metrics, clock, logger, limits, autoAvif: config.autoAvif, scanning: scanner !== undefined,
    memoryCacheBytes: config.variantMemoryBytes, signedTransforms: config.signedTransforms, presets: config.presets, tenantIsolation: config.tenantIsolation,
    renderBudget: clientLimits.renderBudget,
    variantCache, maxRecipesPerAsset: config.maxRecipesPerAsset, ...(graph ? { graph } : {}), demand,
    jobs: { queue, failures: renderFailures, onMiss: config.asyncVariants, retryAfterSeconds: RENDER_RETRY_AFTER_SECONDS },
    locationPrivate: createLocationPrivateOriginals({ store, scrubbers: [createLocationScrubber(), createSvgSanitiser()], cacheBytes: config.locationCacheBytes }),
    ...(config.deliveryRedirect === "store" && storage.downloads
      ? { redirect: { links: storage.downloads, ttlSeconds: config.deliveryRedirectTtlSeconds } } : {}),
  });
  const prewarm = createPrewarm(config, { repos, queue, renderer: delivery.renderer, clock, logger, metrics });
  const renders = createRenderJobs({
    renderer: delivery.renderer, repos, queue, failures: renderFailures, scanning: scanner !== undefined, logger, prewarm: prewarm.renders,
  });
  const similar = createSimilarService({ assets, repos });
  const webhooks = createWebhooks(config, {
    repos, http: remoteHttp, queue, clock, logger,
    presetsFor: (contentType) => (delivery.canTransform(contentType) ? delivery.presetNames : []),
  });
  const storyboards = createStoryboardService({
    assets, repos, store, engine, source: createStoryboardSource({ budget: cpu }), singleFlight: coordination.singleFlight, cpu,
    metrics, clock, logger, limits, scanning: scanner !== undefined, signedTransforms: config.signedTransforms,
    tenantIsolation: config.tenantIsolation, renderBudget: clientLimits.renderBudget, variantCache, maxRecipesPerAsset: config.maxRecipesPerAsset,
  });
  const hls = createHlsService({ store, repos, probe: ffprobe, transcoder, assets, queue, logger, clock, tenantIsolation: config.tenantIsolation });
  const quotas = createQuotaService({ repos, defaultMaxBytes: config.quotaDefaultBytes });
  const maintenance = createMaintenanceService({ repos, queue, sweep: uploads.sweep, gc: (o) => operations.gc.run(o) });
  const status = createStatusService({
    repos, store, queue, quotas, counters: fleet.totals, engine: engine.processorVersion, tools: [...probes, transcoder],
    usageByTier: storeCare.service.usageByTier, prewarm: () => prewarm.service.figures(),
  });

  fillGaugesAtScrape(metricsRegistry, { queue, repos, status, usageByTier: storeCare.service.usageByTier, logger });

  const app = options.api
    ? await buildApp({
      publicUrl: config.publicUrl, trustedHosts: config.trustedHosts, trustProxy: config.trustProxy, corsOrigins: config.corsOrigins, maxUploadBytes: config.maxUploadBytes,
      capabilities: capabilitiesOf(config, store), tokens, metrics: metricsRegistry.http, logger,
      ingest, imports, webhooks: webhooks.service, assets, delivery, similar, variants: createVariantListing({ assets, repos }), hls, storyboards, uploads, maintenance, quotas, status, acl, signedUrls, tokenService, loginCodes, prewarm: prewarm.service,
      tus: { datastore: tus.datastore },
      rateLimit: { perMinute: config.rateLimitPerMinute, redis: clientLimits.redis, prefix: config.redisPrefix },
      metricsToken: config.metricsToken,
      timeouts: { headersMs: config.headersTimeoutMs, idleMs: config.requestTimeoutMs, keepAliveMs: config.keepAliveTimeoutMs },
      tracer: tracing.tracer,
      storeCare: storeCare.service, clientHints: config.clientHints,
    })
    : undefined;

  const eventRetention = createEventRetention({ eventLog: repos.eventLog, clock, retentionDays: config.eventRetentionDays });
  let working = false;
  let sweepTimer: NodeJS.Timeout | undefined;
  const startWorker = () => {
    if (working) return;
    working = true;
    if (config.sweepIntervalSeconds > 0) {
      // Every worker sweeps; sessions are closed under their lock with a compare-and-set,
      // so concurrent sweeps in several processes do each one once. Revocations of tokens
      // past their own expiry are dropped too (an idempotent delete).
      sweepTimer = setInterval(() => {
        uploads.sweep().catch((error: unknown) => logger.warn({ err: error }, "upload sweep failed"));
        tokenService.forgetExpired().catch((error: unknown) => logger.warn({ err: error }, "could not forget expired token revocations"));
        loginCodes.forgetExpired().catch((error: unknown) => logger.warn({ err: error }, "could not forget expired sign-in codes"));
        variantCache.evict().catch((error: unknown) => logger.warn({ err: error }, "variant eviction failed"));
        eventRetention.prune().catch((error: unknown) => logger.warn({ err: error }, "event retention pass failed"));
        prewarm.service.prune().catch((error: unknown) => logger.warn({ err: error }, "could not drop old request counts"));
      }, config.sweepIntervalSeconds * 1000);
      sweepTimer.unref();
    }
    const handlers = instrument({
      ...createJobHandlers({ repos, store, queue, scanner, hls, engine, probes, clock, logger, limits, renders, prewarm: prewarm.service }), replicate: storeCare.replicate,
      "webhook-deliver": webhooks.delivery.deliver,
    }, metrics);
    storeCare.startSchedule();
    queue.start(handlers, { concurrency: config.workerConcurrency });
    operations.scheduler.start();
    webhooks.startRelay();
  };
  if (options.worker) startWorker();

  const flushTimer = setInterval(() => {
    delivery.flushHits().catch((error: unknown) => logger.warn({ err: error }, "could not record variant hits"));
    storyboards.flushHits().catch((error: unknown) => logger.warn({ err: error }, "could not record storyboard hits"));
    fleet.flush().catch((error: unknown) => logger.warn({ err: error }, "could not record the fleet-wide counters"));
  }, 5000);
  flushTimer.unref();

  let closed = false;
  return {
    config, app, tokens, loginCodes, repos, store, queue, metrics: metricsRegistry, delivery, variantCache, storeCare, prewarm: prewarm.service, logger, startWorker, gc: operations.gc,
    videoTools: () => Promise.all([ffprobe.status(), transcoder.status()]),
    async listen() {
      if (!app) throw new Error("this runtime has no API role");
      return app.listen({ port: config.port, host: config.host });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(flushTimer);
      clearInterval(sweepTimer);
      // Stop taking requests first (in-flight ones get a grace period), then let running
      // jobs finish, then close storage.
      if (app) {
        const force = setTimeout(() => app.server.closeAllConnections(), 10_000);
        await app.close();
        clearTimeout(force);
      }
      await webhooks.stopRelay();
      await queue.stop();
      await operations.scheduler.stop();
      await clientLimits.close();
      await variantCache.idle();
      await delivery.flushHits().catch(() => {});
      await storyboards.flushHits().catch(() => {});
      await fleet.flush().catch(() => {});
      await coordination.close();
      await pdfPages.close();
      await heif.close();
      await broadcast?.close();
      await storeCare.close();
      await storage.close();
      await tracing.close().catch(() => undefined);
      await database.close();
    },
  };
}

/** Tells every running process of a deployment about a revocation made outside them (`assetd token --revoke`). */
export async function announceRevocation(config: Config, jti: string): Promise<void> {
  if (!config.redisUrl) return;
  const broadcast = createRedisBroadcast(config.redisUrl, { prefix: config.redisPrefix });
  try {
    await broadcast.publish(REVOCATION_TOPIC, jti);
  } finally {
    await broadcast.close();
  }
}

export { loadConfig, ConfigError } from "./config/index.js";
