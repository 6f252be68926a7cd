import {
  context, propagation, ProxyTracerProvider, SpanKind as OtelKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span,
} from "@opentelemetry/api";
import type { SpanAttributes, SpanHandle, SpanKind, SpanOptions, TraceCarrier, Tracer } from "../ports/tracer.js";

const KINDS: Record<SpanKind, OtelKind> = {
  internal: OtelKind.INTERNAL, server: OtelKind.SERVER, client: OtelKind.CLIENT, producer: OtelKind.PRODUCER, consumer: OtelKind.CONSUMER,
};

/**
 * True when a real tracer provider is registered with the OpenTelemetry API (the SDK set
 * up by otel-sdk.ts, or a test's in-memory one). Without one the API is a no-op, and the
 * composition root does not even wrap adapters.
 */
export function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate.constructor.name !== "NoopTracerProvider";
}

function attributesOf(attributes: SpanAttributes | undefined): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

function handle(span: Span, ctx: Context): SpanHandle {
  return {
    setAttributes: (attributes) => { span.setAttributes(attributesOf(attributes)); },
    run: (fn) => context.with(ctx, fn),
    end(error) {
      if (error !== undefined) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    },
  };
}

/** The Tracer port over the OpenTelemetry API (W3C trace context propagation). */
export function createOtelTracer(name = "assetd"): Tracer {
  const tracer = trace.getTracer(name);
  const parentContext = (parent: TraceCarrier | undefined): Context =>
    parent ? propagation.extract(context.active(), parent) : context.active();

  const startSpan = (spanName: string, attributes?: SpanAttributes, options: SpanOptions = {}): SpanHandle => {
    const parent = parentContext(options.parent);
    const span = tracer.startSpan(spanName, {
      kind: KINDS[options.kind ?? "internal"], attributes: attributesOf(attributes),
      ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    }, parent);
    return handle(span, trace.setSpan(parent, span));
  };

  return {
    enabled: true,
    startSpan,
    async inSpan(spanName, attributes, fn, options) {
      const span = startSpan(spanName, attributes, options);
      try {
        const result = await span.run(fn);
        span.end();
        return result;
      } catch (error) {
        span.end(error);
        throw error;
      }
    },
    carrier() {
      if (!trace.getSpan(context.active())) return undefined;
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return carrier.traceparent ? { traceparent: carrier.traceparent, ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) } : undefined;
    },
  };
}
