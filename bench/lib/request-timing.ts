import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";

/**
 * When each HTTP request this process sends has put its last body byte on the socket, and
 * when its response headers came back, read from Node's diagnostics channels: undici's for
 * fetch, `http.client.*` for node:http (tus-js-client). Nothing in the request path changes;
 * progress callbacks cannot give this (tus-js-client reports a PATCH's last bytes only once
 * it has been answered).
 */
export interface RequestTiming {
  method: string;
  /** Path and query, as sent. */
  path: string;
  startedAt: number;
  /** performance.now() when the body was written out (NaN until then). */
  bodySentAt: number;
  /** performance.now() when the response headers arrived (NaN until then). */
  headersAt: number;
}

export interface RequestRecorder {
  requests: RequestTiming[];
  stop(): void;
}

export function recordRequests(): RequestRecorder {
  const requests: RequestTiming[] = [];
  const byRequest = new WeakMap<object, RequestTiming>();
  const open = (key: object, method: string, path: string) => {
    const timing: RequestTiming = { method, path, startedAt: performance.now(), bodySentAt: Number.NaN, headersAt: Number.NaN };
    byRequest.set(key, timing);
    requests.push(timing);
    return timing;
  };

  const handlers: Record<string, (message: unknown) => void> = {
    "undici:request:create": (m) => {
      const { request } = m as { request: { method: string; path: string } };
      open(request, request.method, request.path);
    },
    "undici:request:bodySent": (m) => {
      const timing = byRequest.get((m as { request: object }).request);
      if (timing) timing.bodySentAt = performance.now();
    },
    "undici:request:headers": (m) => {
      const timing = byRequest.get((m as { request: object }).request);
      if (timing) timing.headersAt = performance.now();
    },
    "http.client.request.start": (m) => {
      const { request } = m as { request: ClientRequest };
      const timing = open(request, request.method, request.path);
      // 'finish': the whole body has been handed to the operating system.
      request.once("finish", () => (timing.bodySentAt = performance.now()));
    },
    "http.client.response.finish": (m) => {
      const timing = byRequest.get((m as { request: object }).request);
      if (timing) timing.headersAt = performance.now();
    },
  };
  for (const [name, handler] of Object.entries(handlers)) subscribe(name, handler);
  return {
    requests,
    stop: () => {
      for (const [name, handler] of Object.entries(handlers)) unsubscribe(name, handler);
    },
  };
}
