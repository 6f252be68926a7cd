import type { FastifyInstance, FastifyRequest } from "fastify";
import { InvalidParameterError } from "../../domain/errors.js";
import { SIMILAR_DEFAULTS, SIMILAR_LIMITS, type SimilarService } from "../../services/similar.js";
import { manifestFor, type ManifestDeps } from "../manifest.js";
import { idParam, onlyKnownKeys, single, type QueryParams } from "../params.js";

export interface SimilarRouteDeps extends ManifestDeps {
  similar: Pick<SimilarService, "similar">;
}

const KEYS = new Set(["maxDistance", "limit"]);

/** `GET /v1/assets/:id/similar?maxDistance=N&limit=M`: visible near-duplicates, closest first. */
export async function similarRoutes(app: FastifyInstance, deps: SimilarRouteDeps): Promise<void> {
  app.get("/v1/assets/:id/similar", async (request) => {
    const query = request.query as QueryParams;
    onlyKnownKeys(query, KEYS);
    const maxDistance = integer(query, "maxDistance", 0, SIMILAR_LIMITS.maxDistance, SIMILAR_DEFAULTS.maxDistance);
    const limit = integer(query, "limit", 1, SIMILAR_LIMITS.limit, SIMILAR_DEFAULTS.limit);
    const result = await deps.similar.similar(request.caller, idParam(request), maxDistance, limit);
    return {
      items: result.items.map(({ distance, asset }) => ({
        distance,
        asset: manifestFor(deps, request, asset),
      })),
      ...(result.reason ? { reason: result.reason } : {}),
    };
  });
}

function integer(query: QueryParams, name: string, min: number, max: number, fallback: number): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  if (!/^\d{1,3}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InvalidParameterError(name, `${name} must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}
