import type { FastifyInstance, FastifyRequest } from "fastify";
import { InvalidParameterError } from "../../domain/errors.js";
import { SIMILAR_DEFAULTS, SIMILAR_LIMITS } from "../../services/similar.js";
import type { AppDeps } from "../app.js";
import { manifestFor } from "../manifest.js";

type Deps = AppDeps;
type Query = Record<string, string | string[] | undefined>;

const KEYS = new Set(["maxDistance", "limit"]);

/** `GET /v1/assets/:id/similar?maxDistance=N&limit=M`: visible near-duplicates, closest first. */
export async function similarRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get("/v1/assets/:id/similar", async (request) => {
    const query = request.query as Query;
    for (const key of Object.keys(query)) {
      if (!KEYS.has(key)) throw new InvalidParameterError(key, `unknown parameter '${key}'`);
    }
    const maxDistance = integer(query, "maxDistance", 0, SIMILAR_LIMITS.maxDistance, SIMILAR_DEFAULTS.maxDistance);
    const limit = integer(query, "limit", 1, SIMILAR_LIMITS.limit, SIMILAR_DEFAULTS.limit);
    const { id } = request.params as { id: string };
    const result = await deps.similar.similar(request.caller, id, maxDistance, limit);
    return {
      items: result.items.map(({ distance, asset }) => ({
        distance,
        asset: manifestFor(deps, request, asset),
      })),
      ...(result.reason ? { reason: result.reason } : {}),
    };
  });
}

function integer(query: Query, name: string, min: number, max: number, fallback: number): number {
  const value = query[name];
  if (value === undefined) return fallback;
  if (Array.isArray(value)) throw new InvalidParameterError(name, `parameter '${name}' is given more than once`);
  if (!/^\d{1,3}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InvalidParameterError(name, `${name} must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}
