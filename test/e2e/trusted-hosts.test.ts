import { request as httpRequest } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { BACKEND, bearer, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * Absolute URLs (manifests, signed URLs, upload targets) are built on ASSETD_PUBLIC_URL or a
 * trusted Host only: a forged Host never reaches a URL a client follows or a cache keeps.
 */

/** A request with a chosen Host header (fetch does not let a caller set it). */
function withHost(base: string, path: string, host: string, options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const url = new URL(base);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname, port: url.port, path, method: options.method ?? "GET",
      headers: {
        host,
        ...options.headers,
        ...(options.token ? bearer(options.token) : {}),
        ...(body !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const photo = () => fixture("formats/lossy-freshflower-800x602.webp");

describe(`URLs built from the Host header (${BACKEND})`, () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });
  const started = async (env: Record<string, string> = {}) => {
    const app = await startApp(env);
    apps.push(app);
    const alice = await app.token("alice");
    const id = (await upload(app, alice, photo(), { "content-type": "image/webp" })).body.id as string;
    return { app, alice, id };
  };

  it("refuses an untrusted Host with 400 when no public URL is configured, and builds URLs on a trusted one", async () => {
    const { app, alice, id } = await started();
    const port = new URL(app.url).port;
    for (const [method, path, body] of [["GET", `/v1/assets/${id}`], ["POST", `/v1/assets/${id}/signed-url`, {}], ["GET", "/v1/assets"]] as const) {
      const evil = await withHost(app.url, path, "evil.example", { method, token: alice, body });
      expect(evil.status).toBe(400);
      expect(evil.body.error).toEqual({ code: "bad_request", message: "untrusted Host; set ASSETD_PUBLIC_URL or ASSETD_TRUSTED_HOSTS" });
    }
    const opened = await withHost(app.url, "/v1/uploads", `evil.example:${port}`, {
      method: "POST", token: alice, body: { filename: "a.webp", contentType: "image/webp", size: 10 },
    });
    expect(opened.status).toBe(400);

    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const manifest = await withHost(app.url, `/v1/assets/${id}`, host, { token: alice });
      expect(manifest.status).toBe(200);
      expect(manifest.body.urls.original).toBe(`http://${host}/a/${id}`);
      const signed = await withHost(app.url, `/v1/assets/${id}/signed-url`, host, { method: "POST", token: alice, body: {} });
      expect(signed.status).toBe(201);
      expect(signed.body.url.startsWith(`http://${host}/a/${id}?`)).toBe(true);
    }
  });

  it("believes the hosts in ASSETD_TRUSTED_HOSTS besides the loopback names", async () => {
    const { app, alice, id } = await started({ ASSETD_TRUSTED_HOSTS: "assets.example.com, .media.example.org" });
    const trusted = await withHost(app.url, `/v1/assets/${id}`, "assets.example.com", { token: alice });
    expect(trusted.status).toBe(200);
    expect(trusted.body.urls.original).toBe(`http://assets.example.com/a/${id}`);
    const sub = await withHost(app.url, `/v1/assets/${id}`, "eu.media.example.org", { token: alice });
    expect(sub.body.urls.original).toBe(`http://eu.media.example.org/a/${id}`);
    expect((await withHost(app.url, `/v1/assets/${id}`, `localhost:${new URL(app.url).port}`, { token: alice })).status).toBe(200);
    for (const host of ["evil.example", "assets.example.com.evil.example", "evilmedia.example.org", "assets.example.com@evil.example"]) {
      expect((await withHost(app.url, `/v1/assets/${id}`, host, { token: alice })).status).toBe(400);
    }
  });

  it("behind a trusted proxy, builds URLs on X-Forwarded-Proto and X-Forwarded-Host, still only for trusted hosts", async () => {
    const forwarded = { "x-forwarded-proto": "https", "x-forwarded-host": "assets.example.com" };
    const { app, alice, id } = await started({ ASSETD_TRUST_PROXY: "127.0.0.1", ASSETD_TRUSTED_HOSTS: "assets.example.com" });
    const local = new URL(app.url).host;
    const manifest = await withHost(app.url, `/v1/assets/${id}`, local, { token: alice, headers: forwarded });
    expect(manifest.body.urls.original).toBe(`https://assets.example.com/a/${id}`);
    const evil = await withHost(app.url, `/v1/assets/${id}`, local, { token: alice, headers: { ...forwarded, "x-forwarded-host": "evil.example" } });
    expect(evil.status).toBe(400);

    // Without ASSETD_TRUST_PROXY the same headers are anyone's to send, and are ignored.
    const direct = await started({ ASSETD_TRUSTED_HOSTS: "assets.example.com" });
    const ignored = await withHost(direct.app.url, `/v1/assets/${direct.id}`, new URL(direct.app.url).host, { token: direct.alice, headers: forwarded });
    expect(ignored.body.urls.original).toBe(`http://${new URL(direct.app.url).host}/a/${direct.id}`);
  });

  it("always uses ASSETD_PUBLIC_URL when it is set, whatever the Host", async () => {
    const { app, alice, id } = await started({ ASSETD_PUBLIC_URL: "https://cdn.example.com" });
    for (const host of ["evil.example", new URL(app.url).host]) {
      const manifest = await withHost(app.url, `/v1/assets/${id}`, host, { token: alice });
      expect(manifest.status).toBe(200);
      expect(manifest.body.urls.original).toBe(`https://cdn.example.com/a/${id}`);
      const signed = await withHost(app.url, `/v1/assets/${id}/signed-url`, host, { method: "POST", token: alice, body: {} });
      expect(signed.body.url.startsWith(`https://cdn.example.com/a/${id}?`)).toBe(true);
    }
  });
});
