import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnServer, type ServerProcess } from "../helpers/process.js";

/** What an operator reads: JSON lines through a pipe by default, readable lines when asked (or on a terminal). */
describe("log format", () => {
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>) => {
    const dir = await mkdtemp(join(tmpdir(), "assetd-logs-"));
    dirs.push(dir);
    const server = await spawnServer(["serve"], { ASSETD_DATA_DIR: dir, ASSETD_LOG_LEVEL: "info", ...env });
    servers.push(server);
    // A request the log records when it finishes.
    expect((await fetch(`${server.url}/v1/assets/01J0000000000000000000000A`)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    return server.output().split("\n");
  };

  it("writes one JSON object per line through a pipe (auto)", async () => {
    const lines = (await start({})).filter((line) => line.startsWith("{"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.some((line) => (JSON.parse(line) as { level: number }).level === 30)).toBe(true);
  });

  it("writes readable lines with ASSETD_LOG_FORMAT=pretty", async () => {
    const lines = await start({ ASSETD_LOG_FORMAT: "pretty" });
    expect(lines.some((line) => line.startsWith("{"))).toBe(false);
    expect(lines.some((line) => /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: /.test(line))).toBe(true);
  });
});
