import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, sha256, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";
import { BIN } from "../helpers/process.js";
import { createClient, isAssetdError } from "../../src/client/index.js";

/**
 * URL imports against real HTTP servers on loopback. The origin is allow-listed by
 * host:port (ASSETD_FETCH_ALLOW); a second server on another loopback port is not, and
 * counts every request it gets, so "refused" means no byte ever left for it.
 */
const photo = fixture("photos/canon-eos-400d-storm-1920x1280.jpg");
const LIMIT = 1024 * 1024;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

describe("URL imports", () => {
  let app: TestApp;
  let closed: TestApp;
  let owner: string;
  let originPort = 0;
  let forbiddenPort = 0;
  let forbiddenHits = 0;
  let deadPort = 0;
  const timers = new Set<NodeJS.Timeout>();

  const origin = createServer((request, response) => {
    const path = request.url ?? "/";
    if (path === "/photo.jpg") return response.writeHead(200, { "content-type": "image/jpeg", "content-length": photo.length }).end(photo);
    if (path === "/hop/3") return response.writeHead(302, { location: "/photo.jpg" }).end();
    if (path.startsWith("/hop/")) return response.writeHead(302, { location: `/hop/${Number(path.slice(5)) + 1}` }).end();
    if (path === "/loop") return response.writeHead(302, { location: "/loop" }).end();
    if (path === "/to-forbidden") return response.writeHead(302, { location: `http://127.0.0.1:${forbiddenPort}/photo.jpg` }).end();
    if (path === "/to-localhost") return response.writeHead(307, { location: `http://localhost:${originPort}/photo.jpg` }).end();
    if (path === "/to-metadata") return response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    if (path === "/to-file") return response.writeHead(302, { location: "file:///etc/passwd" }).end();
    if (path === "/big-declared") {
      response.writeHead(200, { "content-type": "image/jpeg", "content-length": LIMIT + 1 });
      return response.write(photo.subarray(0, 64 * 1024));
    }
    if (path === "/big-chunked") {
      response.writeHead(200, { "content-type": "image/jpeg" });
      response.write(photo);
      return response.end(photo);
    }
    if (path === "/slow") {
      response.writeHead(200, { "content-type": "image/jpeg" });
      response.write(photo.subarray(0, 4096));
      const timer = setInterval(() => response.write(photo.subarray(4096, 4100)), 200);
      timers.add(timer);
      response.on("close", () => clearInterval(timer));
      return;
    }
    if (path === "/silent") return; // never answers
    if (path === "/lying.png") return response.writeHead(200, { "content-type": "image/png" }).end("this is plain text, not a PNG\n");
    if (path === "/missing") return response.writeHead(404).end("no");
    response.writeHead(500).end();
  });
  const forbidden = createServer((_request, response) => {
    forbiddenHits++;
    response.writeHead(200, { "content-type": "image/jpeg" }).end(photo);
  });

  beforeAll(async () => {
    originPort = await listen(origin);
    forbiddenPort = await listen(forbidden);
    // A port nobody listens on any more: allow-listed, so the refusal is the connection's.
    const gone = createServer();
    deadPort = await listen(gone);
    await new Promise((r) => gone.close(r));
    app = await startApp({
      ASSETD_FETCH_ALLOW: `127.0.0.1:${originPort},127.0.0.1:${deadPort}`, ASSETD_MAX_UPLOAD_BYTES: String(LIMIT), ASSETD_FETCH_TIMEOUT_MS: "1500",
    });
    closed = await startApp();
    owner = await app.token("ivy");
  });
  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    origin.closeAllConnections();
    await Promise.all([app.close(), closed.close()]);
    await new Promise((r) => origin.close(r));
    await new Promise((r) => forbidden.close(r));
  });

  const importUrl = async (target: TestApp, token: string, body: Record<string, unknown>) => {
    const response = await fetch(`${target.url}/v1/imports`, {
      method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };

  const assetCount = async () => (await json(await fetch(`${app.url}/v1/assets`, { headers: bearer(app.admin) }))).items.length;

  it("imports an allow-listed URL through the normal ingest, byte for byte, deduplicated with uploads", async () => {
    const imported = await importUrl(app, owner, { url: `http://127.0.0.1:${originPort}/hop/1`, tags: { source: "web" }, public: true });
    expect(imported.status).toBe(201);
    expect(imported.headers.get("location")).toBe(`/v1/assets/${imported.body.id}`);
    expect(imported.body).toMatchObject({
      status: "verified", filename: "photo.jpg", contentType: "image/jpeg", size: photo.length, sha256: sha256(photo),
      public: true, tags: { source: "web" },
    });
    const served = Buffer.from(await (await fetch(`${app.url}/a/${imported.body.id}`)).arrayBuffer());
    expect(sha256(served)).toBe(sha256(photo));

    const uploaded = await upload(app, owner, photo, { "content-type": "image/jpeg" });
    expect(uploaded.body.sha256).toBe(imported.body.sha256);
    expect((await app.runtime.repos.blobs.get(sha256(photo)))?.refcount).toBe(2);
    expect((await app.storedObjects()).filter((key) => key.startsWith("raw/"))).toHaveLength(1);

    const named = await importUrl(app, owner, { url: `http://127.0.0.1:${originPort}/photo.jpg`, filename: "kite.jpg" });
    expect(named.body.filename).toBe("kite.jpg");
  });

  it("refuses loopback without the allow-list, also by the name localhost and through redirects", async () => {
    const before = { assets: await assetCount(), objects: await app.storedObjects() };
    const refusals = [
      [closed, `http://127.0.0.1:${originPort}/photo.jpg`, "address"],
      [closed, `http://localhost:${originPort}/photo.jpg`, "address"],
      [closed, `http://[::1]:${originPort}/photo.jpg`, "address"],
      [app, `http://127.0.0.1:${forbiddenPort}/photo.jpg`, "address"],
      [app, `http://localhost:${originPort}/photo.jpg`, "address"],
      [app, `http://127.0.0.1:${originPort}/to-forbidden`, "address"],
      [app, `http://127.0.0.1:${originPort}/to-localhost`, "address"],
      [app, `http://127.0.0.1:${originPort}/to-metadata`, "address"],
      [app, `http://127.0.0.1:${originPort}/to-file`, "scheme"],
      [app, "file:///etc/passwd", "scheme"],
      [app, `http://user:secret@127.0.0.1:${originPort}/photo.jpg`, "credentials"],
    ] as const;
    for (const [target, url, reason] of refusals) {
      const token = target === app ? owner : await target.token("ivy");
      const refused = await importUrl(target, token, { url });
      expect({ url, status: refused.status, code: refused.body.error.code, reason: refused.body.error.reason }).toEqual({
        url, status: 422, code: "url_not_allowed", reason,
      });
    }
    expect(forbiddenHits).toBe(0);
    expect(await assetCount()).toBe(before.assets);
    expect(await app.storedObjects()).toEqual(before.objects);
  });

  it("caps size, time and redirects, and checks the type, leaving nothing behind", async () => {
    const before = { assets: await assetCount(), objects: await app.storedObjects() };
    const base = `http://127.0.0.1:${originPort}`;
    const cases = [
      ["/big-declared", 413, "payload_too_large"],
      ["/big-chunked", 413, "payload_too_large"],
      ["/slow", 504, "fetch_timeout"],
      ["/silent", 504, "fetch_timeout"],
      ["/loop", 422, "fetch_failed"],
      ["/lying.png", 415, "type_mismatch"],
      ["/missing", 422, "fetch_failed"],
    ] as const;
    for (const [path, status, code] of cases) {
      const started = Date.now();
      const refused = await importUrl(app, owner, { url: `${base}${path}` });
      expect({ path, status: refused.status, code: refused.body.error.code }).toEqual({ path, status, code });
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    expect(await assetCount()).toBe(before.assets);
    expect(await app.storedObjects()).toEqual(before.objects);
  });

  it("follows up to the redirect limit and names bad input", async () => {
    // /hop/1 -> 2 -> 3 -> photo: three redirects, within the default five.
    expect((await importUrl(app, owner, { url: `http://127.0.0.1:${originPort}/hop/1` })).status).toBe(201);
    const loop = await importUrl(app, owner, { url: `http://127.0.0.1:${originPort}/loop` });
    expect(loop.body.error).toMatchObject({ code: "fetch_failed", reason: "redirects", limit: 5 });
    const down = await importUrl(app, owner, { url: `http://127.0.0.1:${deadPort}/photo.jpg` });
    expect({ status: down.status, error: down.body.error }).toMatchObject({ status: 422, error: { code: "fetch_failed", reason: "unreachable", cause: "ECONNREFUSED" } });
    expect((await importUrl(app, owner, { url: "not a url" })).body.error).toMatchObject({ code: "invalid_parameter", parameter: "url" });
    expect((await importUrl(app, owner, { url: `http://127.0.0.1:${originPort}/photo.jpg`, extra: 1 })).status).toBe(400);
    const anonymous = await fetch(`${app.url}/v1/imports`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: `http://127.0.0.1:${originPort}/photo.jpg` }),
    });
    expect(anonymous.status).toBe(401);
  });

  it("is one call in the client and one command in the CLI", async () => {
    const client = createClient({ baseUrl: app.url, token: owner });
    const manifest = await client.importUrl({ url: `http://127.0.0.1:${originPort}/photo.jpg`, tags: { via: "client" } });
    expect(manifest).toMatchObject({ sha256: sha256(photo), tags: { via: "client" } });
    const refused = await client.importUrl({ url: `http://localhost:${originPort}/photo.jpg` }).catch((error: unknown) => error);
    expect(isAssetdError(refused) && refused.code).toBe("url_not_allowed");

    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, "import", `http://127.0.0.1:${originPort}/photo.jpg`, "--tag", "via=cli", "--public"], {
        env: { ...process.env, ASSETD_URL: app.url, ASSETD_TOKEN: owner }, stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ sha256: sha256(photo), public: true, tags: { via: "cli" } });
  });
});
