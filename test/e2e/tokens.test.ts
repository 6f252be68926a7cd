import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokens } from "../../src/auth/jwt.js";
import { createRuntime, type Runtime } from "../../src/main.js";
import { BACKEND, bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * Token lifetimes, scopes and revocation over real HTTP (DESIGN §10). A second API
 * runtime on the same database stands in for another process of a scaled-out deployment:
 * with ASSETD_TEST_BACKEND=scale both share PostgreSQL and Redis.
 */

const PHOTO = "formats/lossy-freshflower-800x602.webp";
const DAY = 24 * 3600;

describe(`bearer tokens: expiry, scopes, revocation (${BACKEND})`, () => {
  let app: TestApp;
  let second: Runtime;
  let secondUrl: string;
  let assetId: string;

  const sign = (sub: string, options: { admin?: boolean; scopes?: ("asset:read" | "asset:write" | "admin")[]; ttl?: number } = {}) =>
    app.runtime.tokens.sign({ sub, admin: options.admin, ...(options.scopes ? { scopes: options.scopes } : {}) }, options.ttl ?? DAY);
  const manifest = (base: string, token: string) => fetch(`${base}/v1/assets/${assetId}`, { headers: bearer(token) });
  const revoke = (token: string, body: unknown) => fetch(`${app.url}/v1/admin/tokens/revoke`, {
    method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
  });
  const jtiOf = (token: string): string => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).jti;

  beforeAll(async () => {
    app = await startApp();
    const alice = await sign("alice");
    const uploaded = await upload(app, alice, fixture(PHOTO), {}, "?filename=flower.webp");
    expect(uploaded.status).toBe(201);
    assetId = uploaded.body.id;
    second = await createRuntime({ ...app.runtime.config, port: 0 }, { api: true, worker: false });
    secondUrl = (await second.listen()).replace("[::1]", "127.0.0.1");
  });
  afterAll(async () => {
    await second?.close();
    await app?.close();
  });

  it("refuses an expired token with 401 invalid_token, saying it expired", async () => {
    const expired = await sign("alice", { ttl: -10 });
    const res = await manifest(app.url, expired);
    expect(res.status).toBe(401);
    expect((await json(res)).error).toMatchObject({ code: "invalid_token", message: "the token has expired" });
  });

  it("tells a token signed with another secret apart from a forged one", async () => {
    const foreign = await createTokens("another secret, at least thirty-two characters long").sign({ sub: "alice" }, DAY);
    const res = await manifest(app.url, foreign);
    expect(res.status).toBe(401);
    const { error } = await json(res);
    expect(error.code).toBe("invalid_token");
    expect(error.message).toMatch(/signed with another secret/);
    expect(error.message).toMatch(/ASSETD_JWT_SECRET/);

    const forged = `${(await sign("alice")).split(".").slice(0, 2).join(".")}.${Buffer.from("not the signature").toString("base64url")}`;
    const refused = await json(await manifest(app.url, forged));
    expect(refused.error).toMatchObject({ code: "invalid_token", message: "the token is not valid" });
  });

  it("revokes by jti: that token is refused by every API process, the user's other tokens still work", async () => {
    const revoked = await sign("alice");
    const other = await sign("alice");
    expect((await manifest(app.url, revoked)).status).toBe(200);
    expect((await manifest(secondUrl, revoked)).status).toBe(200);

    const res = await revoke(app.admin, { jti: jtiOf(revoked) });
    expect(res.status).toBe(204);

    for (const base of [app.url, secondUrl]) {
      const refused = await manifest(base, revoked);
      expect(refused.status).toBe(401);
      expect((await json(refused)).error.code).toBe("token_revoked");
      expect((await manifest(base, other)).status).toBe(200);
    }
    // Revoking twice is not an error.
    expect((await revoke(app.admin, { jti: jtiOf(revoked) })).status).toBe(204);
  });

  it("revokes by the token itself, from the other process", async () => {
    const token = await sign("alice");
    const res = await fetch(`${secondUrl}/v1/admin/tokens/revoke`, {
      method: "POST", headers: { ...bearer(app.admin), "content-type": "application/json" }, body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(204);
    expect((await json(await manifest(app.url, token))).error.code).toBe("token_revoked");
    const garbage = await json(await revoke(app.admin, { token: "garbage" }));
    expect(garbage.error).toMatchObject({ code: "invalid_parameter" });
    expect(JSON.stringify(garbage.error)).toMatch(/token/);
  });

  it("lets only admins revoke, and names jti when it is missing, empty or too long", async () => {
    const alice = await sign("alice");
    const forbidden = await revoke(alice, { jti: jtiOf(alice) });
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).error.code).toBe("forbidden");
    const anonymous = await fetch(`${app.url}/v1/admin/tokens/revoke`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jti: "x" }),
    });
    expect(anonymous.status).toBe(401);
    for (const body of [{}, { jti: "" }, { jti: "x".repeat(129) }, { jti: 42 }]) {
      const res = await revoke(app.admin, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = await json(res);
      expect(error.code).toBe("invalid_parameter");
      expect(JSON.stringify(error)).toMatch(/jti/);
    }
    expect((await manifest(app.url, alice)).status).toBe(200);
  });

  it("a read-only scope reads but changes nothing, tus and upload sessions included", async () => {
    const reader = await sign("alice", { scopes: ["asset:read"] });
    expect((await manifest(app.url, reader)).status).toBe(200);
    expect((await fetch(`${app.url}/a/${assetId}`, { headers: bearer(reader) })).status).toBe(200);

    const refusals = [
      await upload(app, reader, fixture(PHOTO), {}, "?filename=again.webp"),
      await fetch(`${app.url}/v1/assets/${assetId}`, {
        method: "PATCH", headers: { ...bearer(reader), "content-type": "application/json" }, body: JSON.stringify({ filename: "renamed.webp" }),
      }),
      await fetch(`${app.url}/v1/assets/${assetId}`, { method: "DELETE", headers: bearer(reader) }),
      await fetch(`${app.url}/v1/uploads`, {
        method: "POST", headers: { ...bearer(reader), "content-type": "application/json" },
        body: JSON.stringify({ filename: "a.webp", contentType: "image/webp", size: 10 }),
      }),
      await fetch(`${app.url}/v1/tus`, {
        method: "POST", headers: { ...bearer(reader), "tus-resumable": "1.0.0", "upload-length": "10" },
      }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(403);
      const body = res instanceof Response ? await json(res) : res.body;
      expect(body.error.code).toBe("forbidden");
      expect(body.error.message).toMatch(/asset:write/);
    }
    const unchanged = await json(await manifest(app.url, reader));
    expect(unchanged.filename).toBe("flower.webp");
    expect(unchanged.status).toBe("ready");

    const writer = await sign("alice", { scopes: ["asset:read", "asset:write"] });
    const patched = await fetch(`${app.url}/v1/assets/${assetId}`, {
      method: "PATCH", headers: { ...bearer(writer), "content-type": "application/json" }, body: JSON.stringify({ tags: { scoped: "yes" } }),
    });
    expect(patched.status).toBe(200);
  });

  it("a tus upload started with a writing token cannot be continued with a read-only one", async () => {
    const writer = await sign("alice");
    const created = await fetch(`${app.url}/v1/tus`, {
      method: "POST",
      headers: {
        ...bearer(writer), "tus-resumable": "1.0.0", "upload-length": "4",
        "upload-metadata": `filename ${Buffer.from("a.txt").toString("base64")},filetype ${Buffer.from("text/plain").toString("base64")}`,
      },
    });
    expect(created.status).toBe(201);
    const location = new URL(created.headers.get("location")!, `${app.url}/v1/tus`).toString();
    const reader = await sign("alice", { scopes: ["asset:read"] });
    const patch = await fetch(location, {
      method: "PATCH",
      headers: { ...bearer(reader), "tus-resumable": "1.0.0", "upload-offset": "0", "content-type": "application/offset+octet-stream" },
      body: "abcd",
    });
    expect(patch.status).toBe(403);
    expect((await json(patch)).error.message).toMatch(/asset:write/);
    expect((await fetch(location, { method: "DELETE", headers: { ...bearer(writer), "tus-resumable": "1.0.0" } })).status).toBe(204);
  });

  it("the admin role counts only with the admin scope", async () => {
    const narrowed = await sign("root", { admin: true, scopes: ["asset:read", "asset:write"] });
    for (const res of [
      await fetch(`${app.url}/v1/admin/jobs`, { headers: bearer(narrowed) }),
      await revoke(narrowed, { jti: "whatever" }),
    ]) {
      expect(res.status).toBe(403);
      expect((await json(res)).error.code).toBe("forbidden");
    }
    // Not an admin, so alice's private asset stays hidden.
    expect((await manifest(app.url, narrowed)).status).toBe(404);

    const scoped = await sign("root", { admin: true, scopes: ["admin"] });
    expect((await fetch(`${app.url}/v1/admin/jobs`, { headers: bearer(scoped) })).status).toBe(200);
    expect((await revoke(scoped, { jti: "whatever" })).status).toBe(204);
  });
});

describe(`the worker's sweep forgets revocations of expired tokens (${BACKEND})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ ASSETD_SWEEP_INTERVAL: "1" });
  });
  afterAll(() => app?.close());

  it("drops rows past their token's expiry and keeps the others", async () => {
    const repo = app.runtime.repos.tokens;
    const now = Date.now();
    await repo.revoke("expired-token", now - 1000, now);
    await repo.revoke("live-token", now + DAY * 1000, now);
    await repo.revoke("never-expiring-token", null, now);
    const deadline = Date.now() + 10_000;
    while (await repo.isRevoked("expired-token")) {
      if (Date.now() > deadline) throw new Error("the sweep did not forget the expired revocation");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await repo.isRevoked("live-token")).toBe(true);
    expect(await repo.isRevoked("never-expiring-token")).toBe(true);
  });
});
