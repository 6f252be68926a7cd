import { readFile } from "node:fs/promises";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zodToJsonSchema } from "zod-to-json-schema";
import { patchSchema } from "../../src/http/routes/assets.js";
import { openSchema } from "../../src/http/routes/uploads.js";
import { BACKEND, bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * The API reference (DESIGN §10): `GET /openapi.json` is a valid OpenAPI 3.1 document of
 * every route the server answers, `GET /docs` renders it; both public and never rate limited.
 */

const PHOTO = "formats/lossy-freshflower-800x602.webp";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"] as const;

/** README "API overview", "Delivery", "Video streaming", "Video storyboards": method and path. */
const README_ENDPOINTS = [
  "POST /v1/assets", "GET /v1/assets", "GET /v1/assets/:id", "PATCH /v1/assets/:id", "DELETE /v1/assets/:id",
  "POST /v1/assets/:id/restore", "GET /v1/assets/:id/events", "GET /v1/assets/:id/similar", "GET /v1/assets/:id/variants",
  "GET /v1/assets/:id/acl", "PUT /v1/assets/:id/acl", "POST /v1/assets/:id/acl", "DELETE /v1/assets/:id/acl",
  "POST /v1/assets/:id/signed-url", "POST /v1/imports",
  "POST /v1/webhooks", "GET /v1/webhooks", "GET /v1/webhooks/:id", "DELETE /v1/webhooks/:id",
  "GET /v1/webhooks/:id/deliveries", "POST /v1/webhooks/:id/deliveries/:deliveryId/retry",
  "POST /v1/uploads", "GET /v1/uploads/:id", "POST /v1/uploads/:id/complete", "DELETE /v1/uploads/:id",
  "PUT /v1/uploads/:id/data", "PUT /v1/uploads/:id/parts/:n", "GET /v1/capabilities",
  "POST /v1/tus", "HEAD /v1/tus/:id", "PATCH /v1/tus/:id", "DELETE /v1/tus/:id", "OPTIONS /v1/tus",
  "GET /v1/stats", "GET /v1/admin/jobs", "POST /v1/admin/jobs/:id/retry", "POST /v1/admin/reprocess",
  "GET /v1/admin/quotas", "GET /v1/admin/quotas/:owner", "PUT /v1/admin/quotas/:owner", "POST /v1/admin/sweep",
  "POST /v1/admin/gc", "POST /v1/admin/scrub", "POST /v1/admin/lifecycle", "POST /v1/admin/tokens/revoke",
  "POST /v1/admin/login-codes", "POST /v1/auth/login",
  "GET /healthz", "GET /readyz", "GET /metrics",
  "GET /a/:id", "HEAD /a/:id", "GET /a/:id/hls/*", "GET /a/:id/dash/*", "GET /a/:id/storyboard.jpg", "GET /a/:id/storyboard.vtt",
];

/** Fastify's `/a/:id` as the document writes it, `{id}`; the HLS wildcard is named `{file}`. */
const toDocPath = (url: string) => url.replace(/\/\*$/, "/:file").replace(/:([A-Za-z0-9_]+)/g, "{$1}");

/**
 * Every (method, path) Fastify routes, read from `printRoutes()`: a tree whose lines are a
 * path segment and the methods it answers. find-my-way prints a wildcard child as a bare `*`
 * without the static segment before it; such a route is matched by its parent and the wildcard.
 */
function registeredRoutes(tree: string): Array<{ method: string; path: string; wildcardUnder?: string }> {
  const routes: Array<{ method: string; path: string; wildcardUnder?: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^([│ ]*)(?:[├└]── )(.+?) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = [...match[1]!].length / 4;
    stack.length = depth;
    const label = match[2]!;
    const parent = stack.join("");
    stack.push(label === "*" ? "/*" : label);
    for (const method of match[3]!.split(", ")) {
      routes.push(label === "*" ? { method, path: `${parent}/*`, wildcardUnder: parent } : { method, path: parent + label });
    }
  }
  return routes;
}

/** The fields of `export interface Manifest` in the TypeScript client. */
async function clientManifestFields(): Promise<string[]> {
  const source = await readFile(new URL("../../src/client/types.ts", import.meta.url), "utf8");
  const body = /export interface Manifest \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? "";
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

describe(`the API reference (${BACKEND})`, () => {
  let app: TestApp;
  let doc: any;

  beforeAll(async () => {
    // A tight limit, to show the reference is never limited.
    app = await startApp({ ASSETD_RATE_LIMIT: "3" });
    const res = await fetch(`${app.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    doc = await json(res);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
  });

  it("describes every route the server registered, each with a summary, tags and responses", () => {
    const routes = registeredRoutes(app.runtime.app!.printRoutes({ commonPrefix: false }));
    expect(routes.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const route of routes) {
      // The reference itself, and the CORS preflight every path answers.
      if (route.path === "/openapi.json" || route.path.startsWith("/docs") || route.path === "/*") continue;
      // The web console (`/` and its bundle under /console/assets/, which the tree prints as a
      // wildcard under `/`) is a page, not part of the API, and hidden from the document.
      if (route.path === "/" || (route.path === "//*" && app.runtime.app!.hasRoute({ method: "GET", url: "/console/assets/*" }))) continue;
      // Fastify answers HEAD for every GET; the document lists the HEADs routes declare.
      if (route.method === "HEAD") continue;
      const method = route.method.toLowerCase();
      const paths = route.wildcardUnder !== undefined
        ? Object.keys(doc.paths).filter((p) => p.startsWith(toDocPath(route.wildcardUnder!) + "/") && p.endsWith("/{file}"))
        : [toDocPath(route.path)];
      if (!paths.some((p) => doc.paths[p]?.[method])) missing.push(`${route.method} ${route.path}`);
    }
    expect(missing).toEqual([]);
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        expect(op.summary, `${method} ${path}`).toEqual(expect.any(String));
        expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
        expect(Object.keys(op.responses).some((status) => /^2/.test(status)), `${method} ${path}`).toBe(true);
      }
    }
  });

  it("lists every endpoint the README names", () => {
    for (const endpoint of README_ENDPOINTS) {
      const [method, url] = endpoint.split(" ") as [string, string];
      expect(app.runtime.app!.hasRoute({ method: method as "GET", url }), endpoint).toBe(true);
      expect(doc.paths[toDocPath(url)]?.[method.toLowerCase()]?.summary, endpoint).toEqual(expect.any(String));
    }
  });

  it("documents uploads, delivery parameters, security and errors", () => {
    const upload = doc.paths["/v1/assets"].post;
    expect(Object.keys(upload.requestBody.content)).toContain("multipart/form-data");
    expect(upload.requestBody.content["multipart/form-data"].schema.properties.file).toBeDefined();
    expect(upload.responses["201"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Manifest" });
    expect(upload.responses["201"].headers.Location).toBeDefined();
    expect(upload.responses["413"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });

    const delivery = doc.paths["/a/{id}"];
    const names = delivery.get.parameters.filter((p: any) => p.in === "query").map((p: any) => p.name);
    for (const name of ["w", "h", "fit", "pos", "fmt", "q", "dpr", "enlarge", "rotate", "flip", "flop", "blur", "sharpen", "bg", "strip", "page", "t", "preset", "download",
      "crop", "trim", "brightness", "contrast", "saturation", "max_bytes"]) {
      expect(names, name).toContain(name);
    }
    expect(delivery.get.parameters.find((p: any) => p.name === "w").schema).toMatchObject({ type: "integer", minimum: 1, maximum: 8192 });
    expect(delivery.get.parameters.find((p: any) => p.name === "fmt").schema.enum).toEqual(["auto", "jpeg", "png", "webp", "avif", "gif"]);
    expect(delivery.head).toBeDefined();
    expect(doc.paths["/a/{id}/hls/{file}"].get.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(["id", "file"]));

    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(doc.security).toEqual([{ bearerAuth: [] }, {}]);
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
  });

  it("takes request bodies from the zod schemas the handlers parse with", () => {
    const same = (schema: Parameters<typeof zodToJsonSchema>[0]) => {
      const { $schema: _, ...rest } = zodToJsonSchema(schema, { target: "jsonSchema2019-09", $refStrategy: "none" }) as Record<string, unknown>;
      return rest;
    };
    expect(doc.paths["/v1/assets/{id}"].patch.requestBody.content["application/json"].schema).toEqual(same(patchSchema));
    expect(doc.paths["/v1/assets/{id}"].patch.requestBody.required).toBe(false);
    expect(doc.paths["/v1/uploads"].post.requestBody.content["application/json"].schema).toEqual(same(openSchema));
    expect(doc.paths["/v1/uploads"].post.requestBody.required).toBe(true);
  });

  it("has a manifest schema with every field of the TypeScript client's Manifest and of a real manifest", async () => {
    const schema = doc.components.schemas.Manifest;
    const fields = await clientManifestFields();
    expect(fields.length).toBeGreaterThan(15);
    expect(fields.filter((field) => !(field in schema.properties))).toEqual([]);

    const uploaded = await upload(app, app.admin, fixture(PHOTO), {}, "?filename=flower.webp");
    expect(uploaded.status).toBe(201);
    const manifest = await json(await fetch(`${app.url}/v1/assets/${uploaded.body.id}`, { headers: bearer(app.admin) }));
    expect(Object.keys(manifest).filter((key) => !(key in schema.properties))).toEqual([]);
    expect(schema.required.filter((key: string) => !(key in manifest))).toEqual([]);

    const capabilities = await json(await fetch(`${app.url}/v1/capabilities`, { headers: bearer(app.admin) }));
    expect(doc.paths["/v1/capabilities"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Capabilities" });
    expect(Object.keys(capabilities).sort()).toEqual(Object.keys(doc.components.schemas.Capabilities.properties).sort());
  });

  it("serves the rendered reference at /docs, publicly and without a rate limit", async () => {
    for (let i = 0; i < 5; i++) {
      const page = await fetch(`${app.url}/docs`, { headers: bearer("not-a-token") });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await page.text()).toContain("swagger");
      expect((await fetch(`${app.url}/openapi.json`, { headers: bearer("not-a-token") })).status).toBe(200);
    }
    // The page's own scripts, and the document it loads.
    const script = await fetch(`${app.url}/docs/static/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await json(await fetch(`${app.url}/docs/json`))).paths).toEqual(doc.paths);
    // The limit is on: the API itself answers 429 by now.
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${app.url}/v1/assets`)).status);
    expect(statuses).toContain(429);
  });
});
