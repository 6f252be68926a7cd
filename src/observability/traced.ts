import type { JobContext, JobHandlers, JobName, JobQueue } from "../ports/job-queue.js";
import type { TraceCarrier, Tracer } from "../ports/tracer.js";

/**
 * Wraps the named async methods of an adapter or service so each call is a span
 * (`<prefix>.<method>`) nested under whatever span is active. Other members pass through.
 */
export function traceMethods<T extends object>(target: T, prefix: string, methods: ReadonlyArray<keyof T & string>, tracer: Tracer): T {
  const names = new Set<string | symbol>(methods);
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (!names.has(property) || typeof value !== "function") return value;
      return function traced(this: unknown, ...args: unknown[]) {
        const span = tracer.startSpan(`${prefix}.${String(property)}`);
        let result: unknown;
        try {
          result = span.run(() => (value as (...a: unknown[]) => unknown).apply(object, args));
        } catch (error) {
          span.end(error);
          throw error;
        }
        if (result instanceof Promise) return result.then((r) => { span.end(); return r; }, (error: unknown) => { span.end(error); throw error; });
        span.end();
        return result;
      };
    },
  });
}

/** The field of a job payload that carries the enqueuing request's trace. */
const TRACE_FIELD = "traceContext";

/**
 * Carries the trace across the queue, for either backend: `enqueue` adds the active span's
 * W3C context to the payload, and each handler runs in a consumer span that continues it
 * (and sees the payload without that field), so an upload's trace goes on in the worker.
 */
export function traceQueue(queue: JobQueue, tracer: Tracer): JobQueue {
  return {
    ...bind(queue),
    async enqueue(name, payload, options) {
      await tracer.inSpan(`job.enqueue ${name}`, { "job.name": name }, () => {
        // Inside the producer span, so the job's span is its child.
        const carrier = tracer.carrier();
        return queue.enqueue(name, carrier ? { ...payload, [TRACE_FIELD]: carrier } : payload, options);
      }, { kind: "producer" });
    },
    start(handlers, options) {
      type AnyHandler = (payload: unknown, ctx: JobContext) => Promise<void>;
      const wrapped: Record<string, AnyHandler> = {};
      for (const name of Object.keys(handlers) as JobName[]) {
        const handler = handlers[name] as AnyHandler;
        wrapped[name] = (payload, ctx) => {
          const { [TRACE_FIELD]: parent, ...rest } = (payload ?? {}) as Record<string, unknown>;
          return tracer.inSpan(`job ${name}`, { "job.name": name, "job.id": ctx.id, "job.attempt": ctx.attempt }, () => handler(rest, ctx), {
            kind: "consumer", ...(isCarrier(parent) ? { parent } : {}),
          });
        };
      }
      queue.start(wrapped as unknown as JobHandlers, options);
    },
  };
}

function isCarrier(value: unknown): value is TraceCarrier {
  return typeof value === "object" && value !== null && typeof (value as TraceCarrier).traceparent === "string";
}

function bind(queue: JobQueue): JobQueue {
  return {
    enqueue: queue.enqueue.bind(queue),
    start: queue.start.bind(queue),
    stop: queue.stop.bind(queue),
    depth: queue.depth.bind(queue),
    list: queue.list.bind(queue),
    retry: queue.retry.bind(queue),
  };
}
