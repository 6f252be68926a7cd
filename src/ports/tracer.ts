/**
 * Distributed tracing, as use cases and edges see it. The adapter (observability/tracer.ts)
 * speaks OpenTelemetry; nothing else imports it. When tracing is off every call is a no-op.
 */
export type SpanAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

/** W3C Trace Context (https://www.w3.org/TR/trace-context/), as carried in job payloads. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

export type SpanKind = "internal" | "server" | "client" | "producer" | "consumer";

export interface SpanOptions {
  kind?: SpanKind;
  /** Continue this remote trace instead of the active span's. */
  parent?: TraceCarrier;
  /** Epoch ms, for a span recorded after the fact (a database query's duration). */
  startTime?: number;
}

export interface SpanHandle {
  setAttributes(attributes: SpanAttributes): void;
  /** Runs `fn` with this span active, so spans started inside become its children. */
  run<T>(fn: () => T): T;
  /** Ends the span; an error marks it failed and is recorded as an exception event. */
  end(error?: unknown): void;
}

export interface Tracer {
  /** False when no tracer provider is installed: callers may skip building attributes. */
  readonly enabled: boolean;
  startSpan(name: string, attributes?: SpanAttributes, options?: SpanOptions): SpanHandle;
  /** `fn` inside a child span of the active one, ended when its promise settles. */
  inSpan<T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>, options?: SpanOptions): Promise<T>;
  /** The active span's context, to carry it across a queue; undefined when there is none. */
  carrier(): TraceCarrier | undefined;
}

const noopSpan: SpanHandle = { setAttributes() {}, run: (fn) => fn(), end() {} };

export const noopTracer: Tracer = {
  enabled: false,
  startSpan: () => noopSpan,
  inSpan: (_name, _attributes, fn) => fn(),
  carrier: () => undefined,
};
