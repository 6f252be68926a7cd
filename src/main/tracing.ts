import type { Config } from "../config/index.js";
import type { OpenOptions } from "../db/connect.js";
import type { TracingSdk } from "../observability/otel-sdk.js";
import { createOtelTracer, tracingRegistered } from "../observability/tracer.js";
import { traceMethods, traceQueue } from "../observability/traced.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { ImageEngine } from "../ports/image-engine.js";
import type { JobQueue } from "../ports/job-queue.js";
import { noopTracer, type Tracer } from "../ports/tracer.js";

/**
 * One SDK per process, however many runtimes it builds (tests build many, some at once):
 * the promise is shared so two runtimes starting together cannot start two SDKs.
 */
let sdkStarting: Promise<TracingSdk> | undefined;

export interface Tracing {
  tracer: Tracer;
  onQuery: OpenOptions["onQuery"];
  store(store: BlobStore): BlobStore;
  engine(engine: ImageEngine): ImageEngine;
  queue(queue: JobQueue): JobQueue;
  /** Wraps the named async methods of a use case in spans. */
  service<T extends object>(service: T, prefix: string, methods: ReadonlyArray<keyof T & string>): T;
  /** Sends the spans this runtime left buffered. */
  close(): Promise<void>;
}

const STORE_METHODS = ["stage", "put", "get", "read", "head", "delete", "adopt"] as const;

/**
 * Tracing for one runtime. With `OTEL_TRACES_EXPORTER`/`OTEL_EXPORTER_OTLP_ENDPOINT` the
 * SDK is started (OTLP/HTTP); without it, and without a provider registered by the
 * embedding program, nothing is wrapped at all: the adapters are used as they are.
 */
export async function setUpTracing(config: Config): Promise<Tracing> {
  // The SDK and its exporter load only when export is on: a server without tracing carries none of it.
  if (config.tracesExporter === "otlp") {
    await (sdkStarting ??= import("../observability/otel-sdk.js").then((module) => module.startTracingSdk()));
  }
  if (!tracingRegistered()) {
    return {
      tracer: noopTracer, onQuery: undefined,
      store: (s) => s, engine: (e) => e, queue: (q) => q, service: (s) => s,
      close: async () => {},
    };
  }
  const tracer = createOtelTracer();
  return {
    tracer,
    onQuery({ sql, durationMs, error }) {
      const end = Date.now();
      tracer.startSpan("db.query", { "db.system": config.databaseUrl.startsWith("postgres") ? "postgresql" : "sqlite", "db.query.text": sql }, {
        kind: "client", startTime: end - durationMs,
      }).end(error);
    },
    store: (store) => traceMethods(store, "store", STORE_METHODS, tracer),
    engine: (engine) => traceMethods(engine, "image", ["render", "describe"], tracer),
    queue: (queue) => traceQueue(queue, tracer),
    service: (service, prefix, methods) => traceMethods(service, prefix, methods, tracer),
    async close() {
      await (await sdkStarting)?.flush();
    },
  };
}
