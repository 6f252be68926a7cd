import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/assetd.js", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  /** A worker's own /metrics URL (from its banner), when it serves one. */
  metricsUrl: string | undefined;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the built CLI (`node bin/assetd.js ...`) as a real child process. */
export async function spawnServer(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const workerOnly = args[0] === "worker";
  // Servers restarted on the same data directory print their admin token only when asked.
  const argv = args[0] === "serve" && !args.includes("--print-token") ? [...args, "--print-token"] : args;
  const child = spawn(process.execPath, [BIN, ...argv], {
    env: { ...process.env, ASSETD_PORT: "0", ASSETD_LOG_LEVEL: "warn", ASSETD_WORKER_METRICS_PORT: "off", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const deadline = Date.now() + timeoutMs;
  const ready = workerOnly ? /assetd worker is running/ : /export ASSETD_TOKEN=\S+/;
  while (!ready.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = workerOnly ? "" : /running at (http:\/\/\S+)/.exec(out)![1]!.replace("localhost", "127.0.0.1");
  const token = workerOnly ? "" : /export ASSETD_TOKEN=(\S+)/.exec(out)![1]!;
  const metricsUrl = workerOnly ? /metrics: (http:\/\/\S+\/metrics)/.exec(out)?.[1]?.replace("localhost", "127.0.0.1") : undefined;
  return {
    child, url, token, metricsUrl,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A loopback port free right now (for listeners a test names, such as a worker's metrics port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
