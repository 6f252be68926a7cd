import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../helpers/process.js";

function withoutSecret(): NodeJS.ProcessEnv {
  const { ASSETD_JWT_SECRET: _secret, ...env } = process.env;
  return env;
}

/** Runs `assetd serve` until its banner is out, then stops it; returns what it printed. */
async function banner(dataDir: string, extra: string[] = []): Promise<string> {
  const child = spawn(process.execPath, [BIN, "serve", ...extra], {
    env: { ...withoutSecret(), ASSETD_DATA_DIR: dataDir, ASSETD_PORT: "0", ASSETD_LOG_LEVEL: "warn" },
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
    expect(await banner(dataDir)).toMatch(/export ASSETD_TOKEN=\S+/);
    const again = await banner(dataDir);
    expect(again).not.toMatch(/ASSETD_TOKEN=/);
    expect(again).toContain("assetd token --sub NAME");
    expect(await banner(dataDir, ["--print-token"])).toMatch(/export ASSETD_TOKEN=\S+/);
  });
});
