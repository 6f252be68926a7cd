import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { dropTestDatabase, PG_URL, serverDatabaseUrl } from "./pg.js";
import { deleteKeysStartingWith, REDIS_URL } from "./redis.js";
import { loadConfig } from "../../src/config/index.js";
import { createRuntime, type Runtime } from "../../src/main.js";

/**
 * Which deployment the HTTP suites run against: the embedded default (SQLite + files +
 * in-process queue), or `ASSETD_TEST_BACKEND=scale` for PostgreSQL + S3 (Swift) + Redis.
 */
export const BACKEND: "embedded" | "scale" = process.env.ASSETD_TEST_BACKEND === "scale" ? "scale" : "embedded";

export interface TestApp {
  url: string;
  runtime: Runtime;
  dataDir: string;
  admin: string;
  /** Every object key in the store, staging areas included (to prove nothing was left behind). */
  storedObjects(): Promise<string[]>;
  token(sub: string, options?: { admin?: boolean; ttl?: number }): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real assetd (SQLite file, filesystem store, embedded queue) listening on a loopback
 * port in a fresh temporary data directory.
 */
export async function startApp(env: Record<string, string> = {}, roles = { api: true, worker: true }): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), "assetd-test-"));
  const backend = BACKEND === "scale" ? await scaleBackend() : embeddedBackend(dataDir);
  const config = loadConfig({ ASSETD_DATA_DIR: dataDir, ASSETD_PORT: "0", ASSETD_LOG_LEVEL: "silent",
    // gc on demand only, and without a grace period, so tests see its effect at once.
    ASSETD_GC_GRACE: "0", ASSETD_GC_INTERVAL: "0", ...backend.env, ...env });
  const runtime = await createRuntime(config, roles);
  const url = (await runtime.listen()).replace("[::1]", "127.0.0.1");
  const admin = await runtime.tokens.sign({ sub: "admin", admin: true });
  return {
    url, runtime, dataDir, admin,
    storedObjects: backend.storedObjects,
    token: (sub, options = {}) => runtime.tokens.sign({ sub, admin: options.admin }, options.ttl),
    async close() {
      await runtime.close();
      await backend.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

interface Backend {
  env: Record<string, string>;
  storedObjects(): Promise<string[]>;
  cleanup(): Promise<void>;
}

function embeddedBackend(dataDir: string): Backend {
  const root = join(dataDir, "store");
  return {
    env: {},
    async storedObjects() {
      const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))).sort();
    },
    cleanup: async () => {},
  };
}

/** A fresh PostgreSQL database, S3 prefix and Redis key prefix for one app. */
async function scaleBackend(): Promise<Backend> {
  const { s3TestTarget } = await import("./s3.js");
  const s3 = await s3TestTarget();
  if (s3.skip) throw new Error(`ASSETD_TEST_BACKEND=scale needs an S3 server: ${s3.skip}`);
  const redisUrl = REDIS_URL;
  const name = `assetd_e2e_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  // The store's SDK client reads credentials from the standard variables.
  Object.assign(process.env, s3.env);
  return {
    env: {
      ASSETD_DATABASE_URL: serverDatabaseUrl(name), ASSETD_STORAGE: s3.storageUrl(name), ASSETD_REDIS_URL: redisUrl,
      ASSETD_REDIS_PREFIX: name,
    },
    storedObjects: async () => (await s3.keysUnder(`${name}/`)).map((key) => key.slice(name.length + 1)).sort(),
    async cleanup() {
      // Pooled connections may still be closing: wait for them rather than kill them.
      await dropTestDatabase(admin, name);
      await admin.end();
      await s3.cleanup(name);
      await deleteKeysStartingWith(`${name}:`, redisUrl);
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
