import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startApp, type TestApp } from "../helpers/app.js";

interface Outcome {
  status: number | undefined;
  body: string;
  /** Bytes of body the client managed to hand to its socket before the exchange ended. */
  written: number;
  ms: number;
}

/**
 * A chunked upload (no Content-Length) from a client that writes `chunk` every `everyMs`
 * until `total` bytes or the server answers or closes; `stallAfter` bytes, then silence.
 */
function chunkedUpload(app: TestApp, token: string, options: { total: number; chunk: number; everyMs: number; stallAfter?: number }): Promise<Outcome> {
  const url = new URL(`${app.url}/v1/assets`);
  const started = Date.now();
  return new Promise((resolve) => {
    let written = 0;
    let status: number | undefined;
    let body = "";
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ status, body, written, ms: Date.now() - started });
    };
    const req = request({
      host: url.hostname, port: url.port, path: url.pathname, method: "POST",
      headers: { ...bearer(token), "content-type": "application/octet-stream", "transfer-encoding": "chunked" },
    }, (res) => {
      status = res.statusCode;
      res.setEncoding("utf8");
      res.on("data", (text: string) => (body += text));
      res.on("end", finish);
      res.on("error", finish);
    });
    req.on("error", finish);
    req.on("close", () => setTimeout(finish, 50));
    const tick = () => {
      if (done || status !== undefined || req.destroyed) return;
      if (options.stallAfter !== undefined && written >= options.stallAfter) return; // silence
      if (written >= options.total) {
        req.end();
        return;
      }
      const piece = Buffer.alloc(Math.min(options.chunk, options.total - written), 7);
      req.write(piece, (error) => {
        if (!error) written += piece.length;
      });
      timer = setTimeout(tick, options.everyMs);
    };
    tick();
  });
}

describe("slow clients and quotas enforced while streaming", () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_QUOTA_DEFAULT_BYTES: String(2 * 1024 * 1024), ASSETD_UPLOAD_IDLE_TIMEOUT_MS: "700" });
    alice = await app.token("alice");
  });
  afterAll(() => app.close());

  it("stops a chunked 30 MB upload at a 2 MB quota with 403 quota_exceeded, keeping nothing", async () => {
    const outcome = await chunkedUpload(app, alice, { total: 30 * 1024 * 1024, chunk: 256 * 1024, everyMs: 5 });
    // A client still writing at full speed may see the connection close before it reads the
    // 403 (the answer is sent, then the connection is closed rather than drained of 30 MB).
    if (outcome.status !== undefined) {
      expect(outcome.status).toBe(403);
      expect(JSON.parse(outcome.body).error.code).toBe("quota_exceeded");
    }
    // The refusal came as soon as the quota was passed, not after 30 MB.
    expect(outcome.written).toBeLessThan(12 * 1024 * 1024);
    expect(await app.storedObjects()).toEqual([]);
  });

  it("drops an upload that stalls after a few bytes within the idle timeout, keeping nothing", async () => {
    const outcome = await chunkedUpload(app, alice, { total: 1024 * 1024, chunk: 1000, everyMs: 10, stallAfter: 3000 });
    expect(outcome.ms).toBeLessThan(5_000);
    expect(outcome.status).toBe(408);
    expect(JSON.parse(outcome.body).error.code).toBe("request_timeout");
    expect(await app.storedObjects()).toEqual([]);
  });
});

describe("a trickling upload", () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_UPLOAD_IDLE_TIMEOUT_MS: "700", ASSETD_UPLOAD_MIN_RATE: "20000" });
    alice = await app.token("alice");
  });
  afterAll(() => app.close());

  it("is dropped when it stays under the minimum rate for a window, never idle yet keeping nothing", async () => {
    // 200 bytes every 20 ms: about 10 KB/s, never silent for 700 ms, under the 20 KB/s floor.
    const outcome = await chunkedUpload(app, alice, { total: 10 * 1024 * 1024, chunk: 200, everyMs: 20 });
    expect(outcome.ms).toBeLessThan(5_000);
    expect(outcome.written).toBeLessThan(100_000);
    expect(outcome.status).toBe(408);
    expect(JSON.parse(outcome.body).error.code).toBe("request_timeout");
    expect(await app.storedObjects()).toEqual([]);
  });

  it("lets a steady upload above the floor through", async () => {
    const outcome = await chunkedUpload(app, alice, { total: 512 * 1024, chunk: 16 * 1024, everyMs: 10 });
    expect(outcome.status).toBe(201);
  });
});
