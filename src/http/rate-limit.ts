import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import { AppError } from "../domain/errors.js";
import { clientKey } from "./client-key.js";
import { isDocsRoute } from "./openapi/index.js";

export interface RateLimitOptions {
  /** Requests per minute per client; 0 turns the limit off. */
  perMinute: number;
  /**
   * An ioredis client shared by every API process, so the limit holds across them;
   * undefined: counted in this process. Opaque here: http knows no adapter.
   */
  redis?: unknown;
  /** Key namespace in Redis. */
  prefix: string;
}

/** Probes and scrapers must always get through; an overloaded client must not hide the service's health (nor the API reference). */
const EXEMPT = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * Request rate limits (DESIGN §10): `429 rate_limited` with `Retry-After` once a client has
 * made `perMinute` requests in the current window. Counted before the body is read
 * (preParsing), after authentication (onRequest) has named the caller.
 */
export async function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.perMinute <= 0) return;
  await app.register(rateLimit, {
    global: true,
    hook: "preParsing",
    max: options.perMinute,
    timeWindow: 60_000,
    keyGenerator: clientKey,
    // Redis unreachable: serve rather than refuse everyone (the limit is a guard, not a gate).
    skipOnError: true,
    // Admin tokens are the operator's own (tools, prewarming, dashboards): never limited.
    allowList: (request) => request.caller?.admin === true || EXEMPT.has(request.routeOptions.url ?? "") || isDocsRoute(request.routeOptions.url),
    ...(options.redis ? { redis: options.redis, nameSpace: `${options.prefix}:ratelimit:` } : {}),
    errorResponseBuilder: (_request, context) => new AppError(
      "rate_limited", `too many requests: at most ${context.max} a minute, retry in ${context.after}`,
      { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) },
    ),
  });
}
