import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, envDetector, detectResources, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

export interface TracingSdk {
  /** Sends the spans still buffered. */
  flush(): Promise<void>;
}

/**
 * Installs the OpenTelemetry SDK: spans are batched and sent over OTLP/HTTP (JSON).
 * The exporter reads the standard variables itself (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, ...), the batch
 * processor `OTEL_BSP_*`, the resource `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`.
 * Registering also installs the AsyncLocalStorage context manager and the W3C propagator.
 */
export function startTracingSdk(): TracingSdk {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: "assetd" }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register();
  // Registered once for the process (the API accepts one global provider); never shut down
  // before exit, only flushed when a runtime closes.
  return { flush: () => provider.forceFlush() };
}
