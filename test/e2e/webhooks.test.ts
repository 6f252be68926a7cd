import { createHmac } from "node:crypto";
import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, startApp, upload, type TestApp } from "../helpers/app.js";
import { fixture } from "../helpers/fixtures.js";

/**
 * Webhooks over real HTTP: a receiver on a loopback port (allow-listed by host:port in
 * ASSETD_FETCH_ALLOW) records every request; signatures are checked here with node:crypto
 * alone, as a receiver that knows nothing of assetd would check them.
 */
const photo = fixture("photos/grayscale-grey-2560x1600.jpg");
/** This machine's name, when it resolves to loopback (as /etc/hosts usually has it): a name, not a literal, for the send-time check. */
const loopbackName = await lookup(hostname()).then((a) => (a.address.startsWith("127.") || a.address === "::1" ? hostname() : undefined), () => undefined);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

/** Standard Webhooks verification, written out: HMAC-SHA256 keyed by the secret's base64 part. */
function expectedSignature(secret: string, headers: IncomingHttpHeaders, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`).digest("base64")}`;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("webhooks", () => {
  let app: TestApp;
  let closed: TestApp;
  let port = 0;
  const received: Received[] = [];
  const flakyAnswers = [500];
  let downIsUp = false;

  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const path = request.url ?? "/";
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      if (path === "/flaky") {
        const status = flakyAnswers.shift() ?? 200;
        return response.writeHead(status).end(status === 500 ? `try later ${"x".repeat(4000)}` : "ok");
      }
      if (path === "/down") return response.writeHead(downIsUp ? 204 : 503).end(downIsUp ? undefined : "down");
      response.writeHead(200, { "content-type": "text/plain" }).end("thanks");
    });
  });

  const hooksTo = (path: string) => `http://127.0.0.1:${port}${path}`;
  const post = (url: string, token: string, body: unknown) =>
    fetch(url, { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(body) });
  const subscribe = async (token: string, body: unknown) => {
    const response = await post(`${app.url}/v1/webhooks`, token, body);
    expect(response.status).toBe(201);
    return json(response);
  };
  const deliveries = async (token: string, hookId: string) => json(await fetch(`${app.url}/v1/webhooks/${hookId}/deliveries`, { headers: bearer(token) }));
  const receivedFor = (path: string, type: string, assetId: string) => received.find((r) => {
    if (r.path !== path) return false;
    const body = JSON.parse(r.body);
    return body.type === type && body.data.asset.id === assetId;
  });

  beforeAll(async () => {
    port = await listen(receiver);
    app = await startApp({ ASSETD_FETCH_ALLOW: `127.0.0.1:${port}`, ASSETD_WEBHOOK_ATTEMPTS: "2", ASSETD_WEBHOOK_TIMEOUT_MS: "2000" });
    closed = await startApp();
  });

  afterAll(async () => {
    await app?.close();
    await closed?.close();
    await new Promise((r) => receiver.close(r));
  });

  it("signs asset.ready, asset.deleted and asset.restored so that a plain HMAC check verifies them", async () => {
    const alice = await app.token("alice");
    const hook = await subscribe(alice, { url: hooksTo("/ok"), events: ["asset.ready", "asset.deleted", "asset.restored"] });
    expect(hook).toMatchObject({ url: hooksTo("/ok"), events: ["asset.ready", "asset.deleted", "asset.restored"], owner: "alice" });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(hook.secret.slice(6), "base64").length).toBeGreaterThanOrEqual(24);
    const listed = await json(await fetch(`${app.url}/v1/webhooks`, { headers: bearer(alice) }));
    expect(listed.items).toEqual([{ id: hook.id, url: hook.url, events: hook.events, owner: "alice", createdAt: hook.createdAt }]);

    const uploaded = await upload(app, alice, photo, { "content-type": "image/jpeg" }, "?filename=grey.jpg");
    expect(uploaded.status).toBe(201);
    const id = uploaded.body.id as string;
    const ready = await until("asset.ready", () => receivedFor("/ok", "asset.ready", id));
    expect(ready.headers["content-type"]).toBe("application/json");
    expect(ready.headers["webhook-signature"]).toBe(expectedSignature(hook.secret, ready.headers, ready.body));
    expect(Math.abs(Number(ready.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(30);
    const readyBody = JSON.parse(ready.body);
    expect(readyBody).toMatchObject({ type: "asset.ready", data: { asset: { id, status: "ready", owner: "alice", filename: "grey.jpg", contentType: "image/jpeg" } } });
    expect(new Date(readyBody.timestamp).toISOString()).toBe(readyBody.timestamp);
    console.info(`webhook latency, state change to receipt: asset.ready ${ready.at - Date.parse(readyBody.timestamp)} ms`);

    expect((await fetch(`${app.url}/v1/assets/${id}`, { method: "DELETE", headers: bearer(alice) })).status).toBe(204);
    const deleted = await until("asset.deleted", () => receivedFor("/ok", "asset.deleted", id));
    expect(deleted.headers["webhook-signature"]).toBe(expectedSignature(hook.secret, deleted.headers, deleted.body));
    expect(deleted.headers["webhook-id"]).not.toBe(ready.headers["webhook-id"]);
    expect(JSON.parse(deleted.body).data.asset).toMatchObject({ id, status: "deleted" });
    console.info(`webhook latency, state change to receipt: asset.deleted ${deleted.at - Date.parse(JSON.parse(deleted.body).timestamp)} ms`);

    expect((await fetch(`${app.url}/v1/assets/${id}/restore`, { method: "POST", headers: bearer(alice) })).status).toBe(200);
    const restored = await until("asset.restored", () => receivedFor("/ok", "asset.restored", id));
    expect(restored.headers["webhook-signature"]).toBe(expectedSignature(hook.secret, restored.headers, restored.body));
    expect(JSON.parse(restored.body).data.asset).toMatchObject({ id, status: "ready" });

    const log = await until("all three delivered", async () => {
      const page = await deliveries(alice, hook.id);
      return page.items.length === 3 && page.items.every((d: any) => d.state === "delivered") ? page : undefined;
    });
    expect(log.items.map((d: any) => d.type)).toEqual(["asset.restored", "asset.deleted", "asset.ready"]);
    expect(log.items[2]).toMatchObject({ id: ready.headers["webhook-id"], assetId: id, attemptCount: 1 });
    expect(log.items[2].attempts).toEqual([expect.objectContaining({ attempt: 1, responseStatus: 200, error: null, responseBody: "thanks" })]);
    expect(JSON.stringify(log)).not.toContain(hook.secret);
  });

  it("retries a receiver that answers 500, then 200, and logs both attempts", async () => {
    const carol = await app.token("carol");
    const hook = await subscribe(carol, { url: hooksTo("/flaky"), events: ["asset.ready"] });
    const uploaded = await upload(app, carol, photo, { "content-type": "image/jpeg" });
    const log = await until("a delivered retry", async () => {
      const page = await deliveries(carol, hook.id);
      return page.items[0]?.state === "delivered" ? page : undefined;
    });
    const [delivery] = log.items;
    expect(delivery).toMatchObject({ type: "asset.ready", assetId: uploaded.body.id, attemptCount: 2 });
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, responseStatus: 500, error: "the receiver answered 500" });
    expect(delivery.attempts[0].responseBody.startsWith("try later xxx")).toBe(true);
    expect(Buffer.byteLength(delivery.attempts[0].responseBody)).toBeLessThanOrEqual(1024);
    expect(delivery.attempts[1]).toMatchObject({ attempt: 2, responseStatus: 200, error: null, responseBody: "ok" });
    // Same webhook-id and bytes on both attempts; each with its own valid signature.
    const tries = received.filter((r) => r.path === "/flaky");
    expect(tries).toHaveLength(2);
    expect(tries[1]!.headers["webhook-id"]).toBe(tries[0]!.headers["webhook-id"]);
    expect(tries[1]!.body).toBe(tries[0]!.body);
    for (const t of tries) expect(t.headers["webhook-signature"]).toBe(expectedSignature(hook.secret, t.headers, t.body));
  });

  it("dead-letters after the last attempt and sends again on replay", async () => {
    const dave = await app.token("dave");
    const hook = await subscribe(dave, { url: hooksTo("/down"), events: ["asset.ready"] });
    await upload(app, dave, photo, { "content-type": "image/jpeg" });
    const dead = await until("a dead delivery", async () => {
      const page = await deliveries(dave, hook.id);
      return page.items[0]?.state === "dead" ? page.items[0] : undefined;
    });
    expect(dead.attempts.map((a: any) => a.responseStatus)).toEqual([503, 503]);
    const jobs = await json(await fetch(`${app.url}/v1/admin/jobs?state=dead`, { headers: bearer(app.admin) }));
    expect(jobs.items.some((j: any) => j.name === "webhook-deliver" && j.payload.deliveryId === dead.id)).toBe(true);

    downIsUp = true;
    const retry = await post(`${app.url}/v1/webhooks/${hook.id}/deliveries/${dead.id}/retry`, dave, {});
    expect(retry.status).toBe(202);
    expect(await json(retry)).toMatchObject({ id: dead.id, state: "pending" });
    const delivered = await until("the replay", async () => {
      const page = await deliveries(dave, hook.id);
      return page.items[0]?.state === "delivered" ? page.items[0] : undefined;
    });
    expect(delivered.attempts.map((a: any) => a.responseStatus)).toEqual([503, 503, 204]);
    // Delivered: a second replay is allowed (a resend); an unknown delivery is 404.
    expect((await post(`${app.url}/v1/webhooks/${hook.id}/deliveries/NOPE/retry`, dave, {})).status).toBe(404);
  });

  it("keeps subscriptions to their owner; an admin may hear every owner", async () => {
    const erin = await app.token("erin");
    const frank = await app.token("frank");
    const hook = await subscribe(erin, { url: hooksTo("/erin"), events: ["asset.ready"] });
    for (const [method, path] of [["GET", ""], ["DELETE", ""], ["GET", "/deliveries"]] as const) {
      const response = await fetch(`${app.url}/v1/webhooks/${hook.id}${path}`, { method, headers: bearer(frank) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect((await json(response)).error.code).toBe("not_found");
    }
    expect((await json(await fetch(`${app.url}/v1/webhooks`, { headers: bearer(frank) }))).items).toEqual([]);
    const refused = await post(`${app.url}/v1/webhooks`, frank, { url: hooksTo("/all"), events: ["asset.ready"], owner: "*" });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe("forbidden");

    const all = await subscribe(app.admin, { url: hooksTo("/all"), events: ["asset.ready"], owner: "*" });
    expect(all.owner).toBe("*");
    const franks = await upload(app, frank, photo, { "content-type": "image/jpeg" });
    const toAll = await until("the admin's copy", () => receivedFor("/all", "asset.ready", franks.body.id));
    expect(toAll.headers["webhook-signature"]).toBe(expectedSignature(all.secret, toAll.headers, toAll.body));
    // Erin's subscription hears nothing of Frank's asset.
    expect(received.some((r) => r.path === "/erin")).toBe(false);

    expect((await fetch(`${app.url}/v1/webhooks/${hook.id}`, { method: "DELETE", headers: bearer(erin) })).status).toBe(204);
    expect((await fetch(`${app.url}/v1/webhooks/${hook.id}`, { headers: bearer(erin) })).status).toBe(404);
    expect((await fetch(`${app.url}/v1/webhooks/${all.id}`, { method: "DELETE", headers: bearer(app.admin) })).status).toBe(204);
  });

  it("refuses a loopback target without the allow-list, and bad bodies, in the error format", async () => {
    const grace = await closed.token("grace");
    const refused = await fetch(`${closed.url}/v1/webhooks`, {
      method: "POST", headers: { ...bearer(grace), "content-type": "application/json" }, body: JSON.stringify({ url: hooksTo("/ok"), events: ["asset.ready"] }),
    });
    expect(refused.status).toBe(422);
    expect((await json(refused)).error).toMatchObject({ code: "url_not_allowed", reason: "address", range: "loopback" });
    const heidi = await app.token("heidi");
    for (const body of [{ url: hooksTo("/ok"), events: ["asset.nope"] }, { url: hooksTo("/ok"), events: [] }, { url: "not a url", events: ["asset.ready"] }]) {
      const response = await post(`${app.url}/v1/webhooks`, heidi, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await json(response)).error.code).toBe("invalid_parameter");
    }
    expect((await post(`${app.url}/v1/webhooks`, heidi, { url: "file:///etc/passwd", events: ["asset.ready"] })).status).toBe(422);
    expect((await fetch(`${app.url}/v1/webhooks`)).status).toBe(401);
  });

  it.skipIf(loopbackName === undefined)("checks the resolved address on every send: a name that resolves to loopback is refused then", async () => {
    const ivan = await closed.token("ivan");
    const url = `http://${loopbackName}:${port}/by-name`;
    const created = await fetch(`${closed.url}/v1/webhooks`, {
      method: "POST", headers: { ...bearer(ivan), "content-type": "application/json" }, body: JSON.stringify({ url, events: ["asset.ready"] }),
    });
    expect(created.status).toBe(201); // a name is judged when it is resolved, at send time
    const hook = await json(created);
    await upload(closed, ivan, photo, { "content-type": "image/jpeg" });
    const attempt = await until("a refused attempt", async () => {
      const page = await json(await fetch(`${closed.url}/v1/webhooks/${hook.id}/deliveries`, { headers: bearer(ivan) }));
      return page.items[0]?.attempts[0]?.finishedAt ? page.items[0].attempts[0] : undefined;
    });
    expect(attempt).toMatchObject({ responseStatus: null, responseBody: null });
    expect(attempt.error).toMatch(/^url_not_allowed: .*loopback/);
    expect(received.some((r) => r.path === "/by-name")).toBe(false);
  });
});
