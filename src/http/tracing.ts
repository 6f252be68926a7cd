import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { SpanHandle, Tracer } from "../ports/tracer.js";

declare module "fastify" {
  interface FastifyRequest {
    traceSpan: SpanHandle | null;
  }
}

/**
 * One server span per request (`GET /a/:id`, named by route, not by URL, so names stay
 * few), continuing the caller's trace when it sent a W3C `traceparent`. The route handler
 * runs with the span active, so the use case's spans (ingest, store, database, queue) nest
 * under it. Must be registered before any route.
 */
export function registerTracing(app: FastifyInstance, tracer: Tracer): void {
  if (!tracer.enabled) return;
  app.decorateRequest("traceSpan", null);
  app.addHook("onRequest", (request, _reply, done) => {
    const traceparent = request.headers.traceparent;
    const tracestate = request.headers.tracestate;
    const route = request.routeOptions.url ?? "unmatched";
    request.traceSpan = tracer.startSpan(`${request.method} ${route}`, {
      "http.request.method": request.method, "http.route": route, "url.path": request.url.split("?")[0],
    }, {
      kind: "server",
      ...(typeof traceparent === "string" ? { parent: { traceparent, ...(typeof tracestate === "string" ? { tracestate } : {}) } } : {}),
    });
    request.traceSpan.run(done);
  });
  app.addHook("onRoute", (route) => {
    const handler = route.handler;
    route.handler = function tracedHandler(this: unknown, request: FastifyRequest, reply: FastifyReply) {
      const span = request.traceSpan;
      return span ? span.run(() => handler.call(this as never, request, reply)) : handler.call(this as never, request, reply);
    };
  });
  app.addHook("onResponse", (request, reply, done) => {
    request.traceSpan?.setAttributes({ "http.response.status_code": reply.statusCode });
    request.traceSpan?.end(reply.statusCode >= 500 ? new Error(`HTTP ${reply.statusCode}`) : undefined);
    request.traceSpan = null;
    done();
  });
}
