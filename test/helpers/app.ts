import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { loadConfig } from "../../src/config/index.js";
import { createRuntime, type Runtime } from "../../src/main.js";

export interface TestApp {
  url: string;
  runtime: Runtime;
  dataDir: string;
  admin: string;
  token(sub: string, options?: { admin?: boolean; ttl?: number }): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real assetd (SQLite file, filesystem store, embedded queue) listening on a loopback
 * port in a fresh temporary data directory.
 */
export async function startApp(env: Record<string, string> = {}, roles = { api: true, worker: true }): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), "assetd-test-"));
  const config = loadConfig({ ASSETD_DATA_DIR: dataDir, ASSETD_PORT: "0", ASSETD_LOG_LEVEL: "silent", ...env });
  const runtime = await createRuntime(config, roles);
  const url = (await runtime.listen()).replace("[::1]", "127.0.0.1");
  const admin = await runtime.tokens.sign({ sub: "admin", admin: true });
  return {
    url, runtime, dataDir, admin,
    token: (sub, options = {}) => runtime.tokens.sign({ sub, admin: options.admin }, options.ttl),
    async close() {
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface Upload {
  status: number;
  body: any;
  headers: Headers;
}

/** Raw-body upload through real HTTP. */
export async function upload(app: TestApp, token: string, data: Uint8Array, headers: Record<string, string> = {}, query = ""): Promise<Upload> {
  const response = await fetch(`${app.url}/v1/assets${query}`, {
    method: "POST", body: data, headers: { ...bearer(token), ...headers },
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

export async function json(response: Response): Promise<any> {
  return JSON.parse(await response.text());
}

/** Waits until the asset leaves `verified` (metadata extraction done). */
export async function settled(app: TestApp, token: string, id: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const manifest = await json(await fetch(`${app.url}/v1/assets/${id}`, { headers: bearer(token) }));
    if (manifest.status !== "verified" && manifest.status !== "uploaded" && manifest.status !== "pending") return manifest;
    if (Date.now() > deadline) throw new Error(`asset ${id} still ${manifest.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Counter value from /metrics (sum over label sets matching `labels`). */
export async function metric(app: TestApp, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(match[3]);
  }
  return total;
}
