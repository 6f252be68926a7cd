import type { FastifyInstance } from "fastify";
import { InvalidParameterError } from "../../domain/errors.js";
import { parseGrants, parsePermission, parsePrincipal } from "../../domain/grants.js";
import type { AclService } from "../../services/acl.js";
import type { SignedUrlService } from "../../services/signed-urls.js";
import { baseUrlOf, type ManifestDeps } from "../manifest.js";
import { idParam, onlyKnownKeys, single, type QueryParams } from "../params.js";

export interface AclRouteDeps extends Pick<ManifestDeps, "publicUrl" | "trustedHosts"> {
  acl: AclService;
  signedUrls: Pick<SignedUrlService, "create">;
}

const body = (request: { body: unknown }): Record<string, unknown> => {
  if (typeof request.body !== "object" || request.body === null || Array.isArray(request.body)) {
    throw new InvalidParameterError("body", "the body must be a JSON object");
  }
  return request.body as Record<string, unknown>;
};

/**
 * Grants (`/v1/assets/:id/acl`) and signed URLs (`/v1/assets/:id/signed-url`), DESIGN §10.
 * Owners and admins manage grants; anyone who may read an asset may sign URLs of it.
 */
export async function aclRoutes(app: FastifyInstance, deps: AclRouteDeps): Promise<void> {
  app.get("/v1/assets/:id/acl", async (request) => ({ grants: await deps.acl.list(request.caller, idParam(request)) }));

  app.put("/v1/assets/:id/acl", async (request) => {
    const grants = parseGrants(body(request).grants);
    return { grants: await deps.acl.replace(request.caller, idParam(request), grants) };
  });

  app.post("/v1/assets/:id/acl", async (request, reply) => {
    const input = body(request);
    const grant = { principal: parsePrincipal(input.principal), permission: parsePermission(input.permission) };
    reply.code(201);
    return deps.acl.add(request.caller, idParam(request), grant);
  });

  app.delete("/v1/assets/:id/acl", async (request, reply) => {
    const query = request.query as QueryParams;
    onlyKnownKeys(query, new Set(["principal", "permission"]));
    const grant = { principal: parsePrincipal(single(query, "principal")), permission: parsePermission(single(query, "permission")) };
    await deps.acl.remove(request.caller, idParam(request), grant);
    return reply.code(204).send();
  });

  app.post("/v1/assets/:id/signed-url", async (request, reply) => {
    const input = request.body === undefined || request.body === null ? {} : body(request);
    if (input.query !== undefined && typeof input.query !== "string") throw new InvalidParameterError("query", "query must be a string such as w=300&fmt=webp");
    if (input.expiresIn !== undefined && (typeof input.expiresIn !== "number" || !Number.isInteger(input.expiresIn) || input.expiresIn < 1 || input.expiresIn > 604_800)) {
      throw new InvalidParameterError("expiresIn", "expiresIn must be a whole number of seconds from 1 to 604800");
    }
    if (input.hls !== undefined && typeof input.hls !== "boolean") throw new InvalidParameterError("hls", "hls must be true or false");
    if (input.dash !== undefined && typeof input.dash !== "boolean") throw new InvalidParameterError("dash", "dash must be true or false");
    if (input.hls === true && input.dash === true) throw new InvalidParameterError("dash", "a signed URL is for the HLS master or the DASH manifest, not both");
    const signed = await deps.signedUrls.create(request.caller, idParam(request), {
      ...(input.query !== undefined ? { query: input.query as string } : {}),
      ...(input.expiresIn !== undefined ? { expiresIn: input.expiresIn as number } : {}),
      ...(input.hls !== undefined ? { hls: input.hls as boolean } : {}),
      ...(input.dash !== undefined ? { dash: input.dash as boolean } : {}),
    }, baseUrlOf(deps, request));
    reply.code(201);
    return signed;
  });
}
