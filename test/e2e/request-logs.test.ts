import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../helpers/process.js";

/**
 * What the server logs when a client gives up mid-upload: one info line, not an error
 * with a stack trace (cancelling is the client's right, not our fault). The built server
 * runs as a child process so its real log output is read.
 */
describe("request logs", () => {
  let dataDir: string;
  let child: ChildProcess;
  let url: string;
  let token: string;
  let logs = "";

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "assetd-logs-"));
    const { ASSETD_JWT_SECRET: _secret, ...env } = process.env;
    child = spawn(process.execPath, [BIN, "serve", "--print-token"], {
      env: { ...env, ASSETD_DATA_DIR: dataDir, ASSETD_PORT: "0", ASSETD_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => (logs += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (logs += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!/export ASSETD_TOKEN=(\S+)/.test(logs)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no banner:\n${logs}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    token = /export ASSETD_TOKEN=(\S+)/.exec(logs)![1]!;
    url = /assetd is running at (\S+)/.exec(logs)![1]!.replace("localhost", "127.0.0.1");
  });
  afterAll(async () => {
    child?.kill("SIGTERM");
    await new Promise((resolve) => child?.once("exit", resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("an upload the client abandons is logged once at info, without a stack trace, and stores nothing", async () => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(
      `POST /v1/assets?filename=big.bin HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: 50000000\r\n\r\n`,
    );
    socket.write(Buffer.alloc(256 * 1024, 7));
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();

    const deadline = Date.now() + 10_000;
    while (!logs.includes("the client closed the connection") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lines = logs.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
    const closed = lines.filter((line) => line.msg.startsWith("the client closed the connection"));
    expect(closed).toHaveLength(1);
    expect(closed[0]!.level).toBe(30);
    expect(closed[0]!.err).toBeUndefined();
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);

    const listing = await fetch(`${url}/v1/assets`, { headers: { authorization: `Bearer ${token}` } });
    expect((await listing.json() as { items: unknown[] }).items).toEqual([]);
  });
});
