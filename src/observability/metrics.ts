import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { HttpMetrics, Metrics } from "../ports/metrics.js";

export interface MetricsRegistry {
  registry: Registry;
  metrics: Metrics;
  /** The HTTP layer's view: request durations and the /metrics text. */
  http: HttpMetrics;
  httpDuration: Histogram<"method" | "route" | "status">;
  /** Gauges filled at scrape time (queue depth, dedup savings). */
  onCollect(fn: () => Promise<void>): void;
  queueDepth: Gauge<"queue" | "state">;
  dedupSavedBytes: Gauge;
  /** Stored originals per tier (hot, cold): bytes and blobs. */
  storedBytes: Gauge<"tier">;
  storedBlobs: Gauge<"tier">;
  /** 1 when every dependency answers (what /readyz says), else 0; and each check's own. */
  ready: Gauge;
  dependencyUp: Gauge<"check">;
}

/** One registry per app instance, so tests can run several apps in one process. */
export function createMetricsRegistry(): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "assetd_" });
  // Gauges named like counters (promtool's lint refuses them); the per-type gauges of the
  // same names without `_total` remain, and sum to these.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(`assetd_${name}`);
  }
  const collectors: Array<() => Promise<void>> = [];
  // The registry serialises its metrics side by side: every scrape-time gauge waits for
  // the one refresh of this scrape, so none is written out before its value is set.
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> => (refreshing ??= (async () => {
    try {
      for (const fn of collectors) await fn();
    } finally {
      refreshing = undefined;
    }
  })());

  const httpDuration = new Histogram({
    name: "assetd_http_request_duration_seconds", help: "HTTP request latency",
    labelNames: ["method", "route", "status"] as const, registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const variantRequests = new Counter({
    name: "assetd_variant_requests_total", help: "Variant requests by cache result",
    labelNames: ["result"] as const, registers: [registry],
  });
  const renders = new Counter({
    name: "assetd_variant_renders_total", help: "Variants rendered (cache misses that ran the engine), by format and by what they were rendered from",
    labelNames: ["format", "source"] as const, registers: [registry],
  });
  const intermediates = new Counter({
    name: "assetd_intermediate_renders_total", help: "Rungs of the intermediate ladder rendered from originals", registers: [registry],
  });
  const intermediateSeconds = new Counter({
    name: "assetd_intermediate_render_seconds_total", help: "Time spent rendering rungs of the intermediate ladder", registers: [registry],
  });
  const renderSeconds = new Histogram({
    name: "assetd_variant_render_seconds", help: "Time spent rendering one variant", registers: [registry],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const collapsed = new Counter({
    name: "assetd_variant_collapsed_total", help: "Misses that waited for an identical in-flight render",
    registers: [registry],
  });
  const evictions = new Counter({
    name: "assetd_variant_evictions_total", help: "Variants evicted to keep the variant cache under its byte budget",
    registers: [registry],
  });
  const evictedBytes = new Counter({
    name: "assetd_variant_evicted_bytes_total", help: "Bytes of variants evicted by the variant cache budget",
    registers: [registry],
  });
  const rejected = new Counter({
    name: "assetd_transform_rejected_total", help: "Transforms turned away", labelNames: ["reason"] as const,
    registers: [registry],
  });
  const prewarmed = new Counter({
    name: "assetd_prewarm_rendered_total", help: "Variants rendered by prewarm (demand prediction) before anyone asked for them",
    registers: [registry],
  });
  const prewarmRequested = new Counter({
    name: "assetd_prewarm_requested_total", help: "Prewarmed variants requested afterwards (each once): predictions that paid",
    registers: [registry],
  });
  const ingestedBytes = new Counter({
    name: "assetd_ingested_bytes_total", help: "Bytes received by uploads", registers: [registry],
  });
  const uploads = new Counter({
    name: "assetd_uploads_total", help: "Completed uploads", labelNames: ["deduplicated"] as const, registers: [registry],
  });
  const jobs = new Counter({
    name: "assetd_jobs_total", help: "Job runs by outcome", labelNames: ["name", "outcome"] as const,
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: "assetd_job_seconds", help: "Job run time", labelNames: ["name"] as const, registers: [registry],
  });
  const metaLookups = new Counter({
    name: "assetd_meta_cache_requests_total", help: "Delivery lookups of asset metadata by hot-metadata cache result",
    labelNames: ["result"] as const, registers: [registry],
  });
  const metaInvalidations = new Counter({
    name: "assetd_meta_cache_invalidations_total", help: "Hot-metadata cache entries dropped because their asset changed, by where the change was made",
    labelNames: ["origin"] as const, registers: [registry],
  });
  const queueDepth = new Gauge({
    name: "assetd_queue_depth", help: "Jobs by queue and state", labelNames: ["queue", "state"] as const,
    registers: [registry], collect: refresh,
  });
  const dedupSavedBytes = new Gauge({
    name: "assetd_dedup_saved_bytes", help: "Logical bytes minus physical bytes (storage saved by dedup)",
    registers: [registry], collect: refresh,
  });
  const storedBytes = new Gauge({
    name: "assetd_stored_bytes", help: "Bytes of stored originals by storage tier", labelNames: ["tier"] as const, registers: [registry], collect: refresh,
  });
  const storedBlobs = new Gauge({
    name: "assetd_stored_blobs", help: "Stored originals (distinct contents) by storage tier", labelNames: ["tier"] as const, registers: [registry], collect: refresh,
  });
  const ready = new Gauge({
    name: "assetd_ready", help: "1 when the database, the store and the queue all answer (as /readyz reports), else 0", registers: [registry], collect: refresh,
  });
  const dependencyUp = new Gauge({
    name: "assetd_dependency_up", help: "1 when the dependency answers its readiness check, else 0", labelNames: ["check"] as const,
    registers: [registry], collect: refresh,
  });

  const metrics: Metrics = {
    variantHit: () => variantRequests.inc({ result: "hit" }),
    variantMiss: () => variantRequests.inc({ result: "miss" }),
    variantRendered: (seconds, format, source = "original") => {
      renders.inc({ format, source });
      renderSeconds.observe(seconds);
    },
    intermediateRendered: (seconds) => {
      intermediates.inc();
      intermediateSeconds.inc(seconds);
    },
    variantCollapsed: () => collapsed.inc(),
    variantsEvicted: (count, bytes) => {
      evictions.inc(count);
      evictedBytes.inc(bytes);
    },
    transformRejected: (reason) => rejected.inc({ reason }),
    prewarmRendered: () => prewarmed.inc(),
    prewarmRequested: (count) => prewarmRequested.inc(count),
    ingested: (bytes, deduplicated) => {
      ingestedBytes.inc(bytes);
      uploads.inc({ deduplicated: String(deduplicated) });
    },
    jobFinished: (name, outcome, seconds) => {
      jobs.inc({ name, outcome });
      jobSeconds.observe({ name }, seconds);
    },
    metaCacheLookup: (result) => metaLookups.inc({ result }),
    metaCacheInvalidated: (origin) => metaInvalidations.inc({ origin }),
  };

  const http: HttpMetrics = {
    requestFinished: (method, route, status, seconds) => httpDuration.observe({ method, route, status: String(status) }, seconds),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };

  return {
    registry, metrics, http, httpDuration, queueDepth, dedupSavedBytes, storedBytes, storedBlobs, ready, dependencyUp,
    onCollect: (fn) => collectors.push(fn),
  };
}
