import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopChild } from "./proc.js";

export interface IpxServer {
  url: string;
  pid: number;
  sharpVersion: string;
  vipsVersion: string;
  sharpConcurrency: number;
  stop(): Promise<void>;
}

/** Starts ipx (see ipx-server.ts) serving `dir`; URLs are `/<modifiers>/<file>`. */
export async function startIpx(dir: string): Promise<IpxServer> {
  const script = fileURLToPath(new URL("./ipx-server.js", import.meta.url));
  const child = spawn(process.execPath, [script, dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  let info: { port: number; sharp: string; vips: string; concurrency: number } | undefined;
  while (!info) {
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (line) info = JSON.parse(line) as typeof info;
    else if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`ipx did not start:\n${out}`);
    } else await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${info!.port}`,
    pid: child.pid!,
    sharpVersion: info!.sharp,
    vipsVersion: info!.vips,
    sharpConcurrency: info!.concurrency,
    stop: () => stopChild(child),
  };
}

/** ipx's package version (its package.json is not exported, so find it from the entry point). */
export async function ipxVersion(): Promise<string> {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve("ipx"));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (pkg.name === "ipx") return pkg.version ?? "unknown";
      } catch {
        // not this level
      }
    }
  } catch {
    // not installed
  }
  return "not installed";
}
