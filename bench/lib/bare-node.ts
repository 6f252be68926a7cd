import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stopChild } from "./proc.js";

/** The bare `node:http` peer (bare-node-server.ts), started on `cpu` when given. */
export interface BareNodeServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL("./bare-node-server.js", import.meta.url));

export async function startBareNode(file: string, contentType: string, cpu?: string): Promise<BareNodeServer> {
  const argv = [process.execPath, SCRIPT, file, contentType];
  const child = cpu === undefined ? spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] })
    : spawn("taskset", ["-c", cpu, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bare node:http peer did not start: ${out}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the bare node:http peer exited ${code}: ${out}`));
    });
  });
  // Under taskset the child is taskset's exec of node: the same pid.
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child, "SIGTERM", 5_000) };
}
