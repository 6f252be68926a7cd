import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, RouteOptions } from "fastify";
import { ASSET_DOCS } from "./paths-assets.js";
import { DELIVERY_DOCS, SERVICE_DOCS, TUS_DOCS } from "./paths-delivery.js";
import { MANAGE_DOCS } from "./paths-manage.js";
import type { RouteDoc, RouteDocs } from "./route-doc.js";
import { COMPONENTS, jsonOf } from "./schema.js";

/** Where the document and its rendered reference are served (DESIGN §10). */
export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PREFIX = "/docs";

/** The document's own routes: public, never rate limited. */
export function isDocsRoute(url: string | undefined): boolean {
  return url === OPENAPI_PATH || url === DOCS_PREFIX || (url?.startsWith(`${DOCS_PREFIX}/`) ?? false);
}

export const ROUTE_DOCS: RouteDocs = { ...ASSET_DOCS, ...MANAGE_DOCS, ...DELIVERY_DOCS, ...TUS_DOCS, ...SERVICE_DOCS };

/** Path templates Fastify writes as wildcards, in OpenAPI's named form. */
const URL_TEMPLATES: Readonly<Record<string, string>> = { "/a/:id/hls/*": "/a/:id/hls/:file", "/a/:id/dash/*": "/a/:id/dash/:file" };

/** `/a/:id/hls/*` → `/a/{id}/hls/{file}`, as @fastify/swagger writes the paths. */
export function openApiPath(url: string): string {
  return (URL_TEMPLATES[url] ?? url).replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** @fastify/swagger marks every request body required; some are not. */
function markOptionalBodies(document: { paths?: Record<string, Record<string, { requestBody?: { required?: boolean } }>> }): void {
  for (const [key, doc] of Object.entries(ROUTE_DOCS)) {
    if (!doc.optionalBody) continue;
    const [method, url] = key.split(" ") as [string, string];
    const body = document.paths?.[openApiPath(url)]?.[method.toLowerCase()]?.requestBody;
    if (body) body.required = false;
  }
}

function docOf(route: RouteOptions): RouteDoc | undefined {
  const methods = typeof route.method === "string" ? [route.method] : route.method;
  for (const method of methods) {
    const doc = ROUTE_DOCS[`${method} ${route.url}`];
    if (doc) return doc;
  }
  return undefined;
}

/**
 * `GET /openapi.json` (OpenAPI 3.1) and `GET /docs` (swagger-ui). Register before any route:
 * the document is built from every route registered after this (an onRoute hook).
 *
 * The route descriptions are handed to @fastify/swagger through its `transform`, not set as
 * Fastify route schemas: Fastify would then validate and serialise with them, while the
 * handlers' own zod parsing (the request schemas below are the same zod objects) stays the
 * one validator, with the error codes and messages clients already rely on.
 */
export async function registerOpenApi(app: FastifyInstance, options: { publicUrl: string | undefined }): Promise<void> {
  for (const [name, schema] of Object.entries(COMPONENTS)) app.addSchema({ $id: name, title: name, ...jsonOf(schema) });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "assetd",
        version: "1",
        description: "Self-hostable digital-asset service. Errors are `{\"error\":{\"code\",\"message\",...details}}`. Without a token a caller is anonymous and reads public assets only.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      // Behind a proxy (perhaps with a path prefix) the configured public URL; else the page's own origin.
      ...(options.publicUrl !== undefined ? { servers: [{ url: options.publicUrl }] } : {}),
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "HS256; claims sub, groups, role (admin), scope, jti" },
          metricsToken: { type: "http", scheme: "bearer", description: "ASSETD_METRICS_TOKEN (not a JWT)" },
        },
      },
      // A token, or none at all (anonymous: public assets only).
      security: [{ bearerAuth: [] }, {}],
      tags: [
        { name: "assets" }, { name: "uploads" }, { name: "tus" }, { name: "imports" }, { name: "sharing" },
        { name: "webhooks" }, { name: "delivery" }, { name: "admin" }, { name: "auth" }, { name: "service" },
      ],
    },
    // HEAD is documented where a route declares it (tus, delivery), not for every GET.
    exposeHeadRoutes: true,
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const hidden = { schema: { ...schema, hide: true }, url };
      if (schema?.hide) return hidden;
      const doc = docOf(route);
      if (!doc) return route.method === "HEAD" ? hidden : { schema, url };
      const { optionalBody: _optional, ...routeSchema } = doc;
      return { schema: routeSchema as unknown as typeof schema, url: URL_TEMPLATES[url] ?? url };
    },
    transformObject: (documents) => {
      if ("openapiObject" in documents) markOptionalBodies(documents.openapiObject as Parameters<typeof markOptionalBodies>[0]);
      return "openapiObject" in documents ? documents.openapiObject : documents.swaggerObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
