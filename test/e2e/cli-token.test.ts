import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, json, startApp, type TestApp } from "../helpers/app.js";
import { BIN } from "../helpers/process.js";

/**
 * `assetd token` as an operator runs it (the built CLI, so `npm run build` first), next to a
 * real server: it signs with the server's secret (found through ASSETD_DATA_DIR), mints
 * tokens that expire, never invents a secret, and revokes in the server's database.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command with only the given ASSETD_* settings (none inherited from the test's environment). */
function assetd(args: string[], settings: Record<string, string>): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ASSETD_")));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...settings }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const payloadOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("assetd token", () => {
  let app: TestApp;
  let settings: Record<string, string>;
  let empty: string;

  /** Mints with the server's data directory and database; returns the printed token. */
  const mint = async (args: string[]): Promise<string> => {
    const run = await assetd(["token", ...args], settings);
    expect(run.stderr).toMatch(/^using the token secret from \S+jwt-secret \(key [0-9a-f]{12}\)\n$/);
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    return token;
  };
  const list = (token: string) => fetch(`${app.url}/v1/assets`, { headers: bearer(token) });

  beforeAll(async () => {
    app = await startApp();
    // The CLI runs with the server's configuration: its data directory, database and (at
    // scale) the Redis through which a revocation is announced to running processes.
    const { databaseUrl, redisUrl, redisPrefix } = app.runtime.config;
    settings = {
      ASSETD_DATA_DIR: app.dataDir, ASSETD_DATABASE_URL: databaseUrl,
      ...(redisUrl ? { ASSETD_REDIS_URL: redisUrl, ASSETD_REDIS_PREFIX: redisPrefix } : {}),
    };
    empty = await mkdtemp(join(tmpdir(), "assetd-no-secret-"));
  });
  afterAll(async () => {
    await app?.close();
    if (empty) await rm(empty, { recursive: true, force: true });
  });

  it("mints a token that expires in 30 days by default, which the server accepts", async () => {
    const token = await mint(["--sub", "alice"]);
    const payload = payloadOf(token);
    expect(payload.sub).toBe("alice");
    expect(typeof payload.jti).toBe("string");
    expect(Math.abs((payload.exp as number) - (nowSeconds() + 30 * 24 * 3600))).toBeLessThan(60);
    expect((await list(token)).status).toBe(200);
  });

  it("--ttl sets the lifetime in seconds; --no-expiry mints one without exp", async () => {
    const short = payloadOf(await mint(["--sub", "alice", "--ttl", "60"]));
    expect((short.exp as number) - (short.iat as number)).toBe(60);
    expect(Math.abs((short.exp as number) - (nowSeconds() + 60))).toBeLessThan(10);

    const forever = await mint(["--sub", "alice", "--no-expiry"]);
    expect(payloadOf(forever).exp).toBeUndefined();
    expect((await list(forever)).status).toBe(200);
  });

  it("--scope narrows the token: a read-only one may list but not upload", async () => {
    const reader = await mint(["--sub", "alice", "--scope", "asset:read"]);
    expect(payloadOf(reader).scope).toBe("asset:read");
    expect((await list(reader)).status).toBe(200);
    const res = await fetch(`${app.url}/v1/assets?filename=a.txt`, { method: "POST", headers: bearer(reader), body: "hello" });
    expect(res.status).toBe(403);
    expect((await json(res)).error.message).toMatch(/asset:write/);
  });

  it("refuses to run without a secret, and creates none", async () => {
    const run = await assetd(["token", "--sub", "alice"], { ASSETD_DATA_DIR: empty });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/no token secret/);
    expect(run.stderr).toContain(join(empty, "jwt-secret"));
    expect(await readdir(empty)).not.toContain("jwt-secret");
  });

  it("--revoke TOKEN: the running server refuses that token from then on", async () => {
    const token = await mint(["--sub", "alice"]);
    const other = await mint(["--sub", "alice"]);
    expect((await list(token)).status).toBe(200);

    const run = await assetd(["token", "--revoke", token], settings);
    expect(run.stderr).toMatch(/^using the token secret from \S+jwt-secret \(key [0-9a-f]{12}\)\n$/);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`revoked ${payloadOf(token).jti as string}`);

    const refused = await list(token);
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.code).toBe("token_revoked");
    expect((await list(other)).status).toBe(200);
  });

  it("--revoke JTI works with the bare token id", async () => {
    const token = await mint(["--sub", "bob"]);
    const run = await assetd(["token", "--revoke", payloadOf(token).jti as string], settings);
    expect(run.code).toBe(0);
    expect((await json(await list(token))).error.code).toBe("token_revoked");
  });
});
