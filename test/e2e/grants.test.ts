import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * ACL grants over real HTTP (DESIGN §10 "Access"): who may see, change and delete an asset
 * given user, group and `*` grants, on manifest, original, variant, listing, PATCH, DELETE.
 */
describe("ACL grants", () => {
  let app: TestApp;
  let alice: string;
  const tokens: Record<string, string> = {};
  const photo = fixture("formats/lossy-freshflower-800x602.webp");

  beforeAll(async () => {
    app = await startApp();
    alice = await app.token("alice");
    tokens.bob = await app.token("bob");
    tokens.carol = await app.runtime.tokens.sign({ sub: "carol", groups: ["team"] });
    tokens.dave = await app.token("dave");
  });
  afterAll(() => app.close());

  const asAlice = (method: string, path: string, body?: unknown) => fetch(`${app.url}${path}`, {
    method, headers: { ...bearer(alice), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const fresh = async () => (await upload(app, alice, photo, {}, "?filename=shared.webp")).body.id as string;

  async function statuses(id: string, token: string | undefined) {
    const headers = token ? bearer(token) : {};
    const manifest = (await fetch(`${app.url}/v1/assets/${id}`, { headers })).status;
    const original = (await fetch(`${app.url}/a/${id}`, { headers })).status;
    const variant = (await fetch(`${app.url}/a/${id}?w=20`, { headers })).status;
    const listed = token
      ? (await json(await fetch(`${app.url}/v1/assets?limit=1000`, { headers }))).items.some((m: { id: string }) => m.id === id)
      : null;
    const patch = (await fetch(`${app.url}/v1/assets/${id}`, {
      method: "PATCH", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ filename: "renamed.webp" }),
    })).status;
    return { manifest, original, variant, listed, patch };
  }

  it("answers the access matrix with exact statuses", async () => {
    const id = await fresh();
    expect((await asAlice("PUT", `/v1/assets/${id}/acl`, {
      grants: [{ principal: "bob", permission: "read" }, { principal: "group:team", permission: "write" }],
    })).status).toBe(200);

    expect(await statuses(id, alice)).toEqual({ manifest: 200, original: 200, variant: 200, listed: true, patch: 200 });
    // A read grant: sees it everywhere, may not change it.
    expect(await statuses(id, tokens.bob)).toEqual({ manifest: 200, original: 200, variant: 200, listed: true, patch: 403 });
    // A group's write grant includes reading.
    expect(await statuses(id, tokens.carol)).toEqual({ manifest: 200, original: 200, variant: 200, listed: true, patch: 200 });
    // No grant: it does not exist for them.
    expect(await statuses(id, tokens.dave)).toEqual({ manifest: 404, original: 404, variant: 404, listed: false, patch: 404 });
    // Anonymous changes need a token first (401), before any lookup.
    expect(await statuses(id, undefined)).toEqual({ manifest: 404, original: 404, variant: 404, listed: null, patch: 401 });

    // `*`: anyone reads, nobody but the owner changes.
    expect((await asAlice("POST", `/v1/assets/${id}/acl`, { principal: "*", permission: "read" })).status).toBe(201);
    expect(await statuses(id, tokens.dave)).toEqual({ manifest: 200, original: 200, variant: 200, listed: true, patch: 403 });
    expect(await statuses(id, undefined)).toEqual({ manifest: 200, original: 200, variant: 200, listed: null, patch: 401 });
    expect((await json(await fetch(`${app.url}/v1/assets/${id}`))).public).toBe(true);
    // Strangers do not learn who owns what they may read.
    expect((await json(await fetch(`${app.url}/v1/assets/${id}`))).owner).toBeUndefined();
    expect((await json(await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(tokens.bob) }))).owner).toBeUndefined();
    expect((await json(await asAlice("GET", `/v1/assets/${id}`))).owner).toBe("alice");
  });

  it("needs a delete grant to delete; read alone is 403, nothing at all 404", async () => {
    const id = await fresh();
    await asAlice("PUT", `/v1/assets/${id}/acl`, { grants: [{ principal: "bob", permission: "read" }, { principal: "carol", permission: "delete" }] });
    expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(tokens.dave) })).status).toBe(404);
    const refused = await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(tokens.bob) });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe("forbidden");
    expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(tokens.carol) })).status).toBe(204);
    expect((await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(alice) })).status).toBe(404);
  });

  it("lets owners and admins manage grants; readers get 403, strangers 404", async () => {
    const id = await fresh();
    await asAlice("POST", `/v1/assets/${id}/acl`, { principal: "bob", permission: "read" });
    expect(await json(await asAlice("GET", `/v1/assets/${id}/acl`))).toEqual({ grants: [{ principal: "bob", permission: "read" }] });
    expect((await fetch(`${app.url}/v1/assets/${id}/acl`, { headers: bearer(tokens.bob) })).status).toBe(403);
    expect((await fetch(`${app.url}/v1/assets/${id}/acl`, { headers: bearer(tokens.dave) })).status).toBe(404);
    const grantByReader = await fetch(`${app.url}/v1/assets/${id}/acl`, {
      method: "POST", headers: { ...bearer(tokens.bob), "content-type": "application/json" }, body: JSON.stringify({ principal: "bob", permission: "write" }),
    });
    expect(grantByReader.status).toBe(403);
    const byAdmin = await fetch(`${app.url}/v1/assets/${id}/acl`, { headers: bearer(app.admin) });
    expect(byAdmin.status).toBe(200);

    expect((await asAlice("DELETE", `/v1/assets/${id}/acl?principal=bob&permission=read`)).status).toBe(204);
    expect((await asAlice("DELETE", `/v1/assets/${id}/acl?principal=bob&permission=read`)).status).toBe(404);
    expect((await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(tokens.bob) })).status).toBe(404);
  });

  it("keeps public and the * read grant one fact", async () => {
    const id = await fresh();
    expect((await asAlice("PATCH", `/v1/assets/${id}`, { public: true })).status).toBe(200);
    expect(await json(await asAlice("GET", `/v1/assets/${id}/acl`))).toEqual({ grants: [{ principal: "*", permission: "read" }] });
    expect((await asAlice("DELETE", `/v1/assets/${id}/acl?principal=*&permission=read`)).status).toBe(204);
    expect((await json(await asAlice("GET", `/v1/assets/${id}`))).public).toBe(false);
    expect((await fetch(`${app.url}/a/${id}`)).status).toBe(404);
    // A writer who is not the owner may rename but not publish.
    await asAlice("POST", `/v1/assets/${id}/acl`, { principal: "bob", permission: "write" });
    const publish = await fetch(`${app.url}/v1/assets/${id}`, {
      method: "PATCH", headers: { ...bearer(tokens.bob), "content-type": "application/json" }, body: JSON.stringify({ public: true }),
    });
    expect(publish.status).toBe(403);
  });

  it("refuses malformed grants with 400 naming the field", async () => {
    const id = await fresh();
    const cases: Array<[unknown, string]> = [
      [{ grants: [{ principal: "bob", permission: "own" }] }, "permission"],
      [{ grants: [{ principal: "a b", permission: "read" }] }, "principal"],
      [{ grants: "bob" }, "grants"],
    ];
    for (const [body, parameter] of cases) {
      const response = await asAlice("PUT", `/v1/assets/${id}/acl`, body);
      expect(response.status).toBe(400);
      expect((await json(response)).error).toMatchObject({ code: "invalid_parameter", parameter });
    }
    expect((await asAlice("DELETE", `/v1/assets/${id}/acl?principal=bob`)).status).toBe(400);
  });
});
