import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../helpers/process.js";

function withoutSecret(): NodeJS.ProcessEnv {
  const { ASSETD_JWT_SECRET: _secret, ...env } = process.env;
  return env;
}

/** Runs `assetd serve` until its banner is out, then stops it; returns what it printed. */
async function banner(dataDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = spawn(process.execPath, [BIN, "serve", ...extra], {
    env: { ...withoutSecret(), ASSETD_DATA_DIR: dataDir, ASSETD_PORT: "0", ASSETD_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 30_000;
  while (!/export ASSETD_TOKEN=|mint tokens with/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no banner:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGTERM");
  await exited;
  return out;
}

describe("the start-up banner", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "assetd-banner-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("prints an admin token on the first start only, or when asked", async () => {
    expect(existsSync(join(dataDir, "jwt-secret"))).toBe(false);
    const first = await banner(dataDir);
    expect(first).toMatch(/export ASSETD_TOKEN=\S+/);
    expect(first).toMatch(/web console: http:\/\/localhost:\d+\/#login=[A-Za-z0-9_-]{43}  \(one-time sign-in link, valid 10 minutes/);
    const again = await banner(dataDir);
    expect(again).not.toMatch(/ASSETD_TOKEN=/);
    expect(again).toContain("assetd token --sub NAME");
    // A fresh link on every start, each one its own.
    const links = [first, again].map((out) => /#login=([A-Za-z0-9_-]+)/.exec(out)?.[1]);
    expect(links[1]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(links[1]).not.toBe(links[0]);
    expect(await banner(dataDir, ["--print-token"])).toMatch(/export ASSETD_TOKEN=\S+/);
  });
});

describe("the start-up banner on a machine without ffmpeg", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "assetd-banner-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("warns that video needs ffmpeg and says how to get it", async () => {
    const emptyPath = await mkdtemp(join(tmpdir(), "assetd-no-tools-"));
    try {
      const out = await banner(dataDir, [], { PATH: emptyPath });
      expect(out).toMatch(/warning: ffmpeg is not installed; video posters and HLS streaming are unavailable .*apt install ffmpeg/);
      expect(out).toMatch(/warning: ffprobe is not installed; video and audio metadata is unavailable/);
    } finally {
      await rm(emptyPath, { recursive: true, force: true });
    }
  });

  it("names a port that is already taken and what to do about it", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, [BIN, "serve"], {
        env: { ...withoutSecret(), ASSETD_DATA_DIR: dataDir, ASSETD_PORT: String(port), ASSETD_HOST: "127.0.0.1", ASSETD_LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(err).toContain(`assetd: port ${port} on 127.0.0.1 is already in use: is another assetd (or another server) running? Stop it, or set ASSETD_PORT to another port`);
    } finally {
      blocker.close();
    }
  });

  it("--version prints the package's version", async () => {
    const child = spawn(process.execPath, [BIN, "--version"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => child.once("exit", resolve));
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(out.trim()).toBe(pkg.version);
  });
});
