import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import sharp from "sharp";
import { REPO_ROOT } from "./assetd.js";
import { ipxVersion, startIpx } from "./ipx.js";
import { findNginx, nginxVersion } from "./nginx.js";
import { hasTool, wrkVersion } from "./wrk.js";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  uvThreadpool: string;
  assetd: { version: string; commit: string; sharp: string; vips: string; sharpConcurrency: number };
  ipx: { version: string; sharp: string; vips: string };
  nginx: string;
  autocannon: string;
  wrk: string;
  /** `uptime` when the run started: load averages of a shared machine. */
  uptime: string;
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? process.platform;
  } catch {
    return process.platform;
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty ? `${head}+local changes` : head;
  } catch {
    return "";
  }
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(join(REPO_ROOT, "package.json"));
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Cores, memory and every version that decides the numbers; `log` reports peer installs. */
export async function machineInfo(log: (message: string) => void, withNginx: boolean): Promise<MachineInfo> {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  // ipx's own sharp is read in ipx's process: two libvips builds must not share one process.
  let ipxSharp = { sharp: "unavailable", vips: "unavailable" };
  const dir = await mkdtemp(join(tmpdir(), "assetd-bench-ipx-"));
  try {
    const ipx = await startIpx(dir);
    ipxSharp = { sharp: ipx.sharpVersion, vips: ipx.vipsVersion };
    await ipx.stop();
  } catch (error) {
    log(`ipx could not start: ${(error as Error).message.split("\n")[0]}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const nginx = withNginx ? findNginx(log) : undefined;
  return {
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    kernel: release(),
    node: process.version,
    uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? "4 (default)",
    assetd: {
      version: pkg.version, commit: gitCommit(),
      sharp: sharp.versions.sharp ?? "unknown", vips: sharp.versions.vips, sharpConcurrency: sharp.concurrency(),
    },
    ipx: { version: await ipxVersion(), ...ipxSharp },
    nginx: nginx ? nginxVersion(nginx) : withNginx ? "not available" : "not used",
    autocannon: packageVersion("autocannon"),
    wrk: hasTool("wrk") ? wrkVersion() : "not available",
    uptime: spawnSync("uptime", { encoding: "utf8" }).stdout?.trim() ?? "unknown",
  };
}
