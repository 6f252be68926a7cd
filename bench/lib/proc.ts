import { execFileSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, connect } from "node:net";

/** Linux /proc readers: memory high-water marks and CPU time of the servers under test. */

let clockTicks: number | undefined;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux we run on). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** A field of /proc/<pid>/status in MiB (VmRSS, VmHWM, ...); undefined once the process is gone. */
export function statusMiB(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process (all its threads) has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces: count fields after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return 0;
  }
}

/** Direct children of a process (nginx's workers under its master). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // raced with an exiting process
    }
  }
  return out;
}

/**
 * CPU used by a set of processes over a measured stretch, as a share of one core
 * (1.0 = one core busy the whole time). Start before the load, call the result after it.
 */
export function cpuMeter(pids: () => number[]): () => number {
  const started = performance.now();
  const before = new Map(pids().map((pid) => [pid, cpuSeconds(pid)]));
  return () => {
    const seconds = (performance.now() - started) / 1000;
    let used = 0;
    for (const pid of pids()) used += cpuSeconds(pid) - (before.get(pid) ?? 0);
    return seconds > 0 ? used / seconds : 0;
  };
}

/** The harness's own CPU (the load generator runs here) over a measured stretch, in cores. */
export function selfCpuMeter(): () => number {
  const started = performance.now();
  const before = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(before);
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? (used.user + used.system) / 1e6 / seconds : 0;
  };
}

/** Samples VmRSS every `intervalMs` until stopped; returns the largest sample in MiB. */
export function rssSampler(pid: number, intervalMs = 50): () => number {
  let peak = statusMiB(pid, "VmRSS") ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, statusMiB(pid, "VmRSS") ?? 0);
  }, intervalMs);
  return () => {
    clearInterval(timer);
    return Math.max(peak, statusMiB(pid, "VmRSS") ?? 0);
  };
}

/** A free loopback port (for peers that cannot bind port 0 and tell us which port they got). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Stops a child politely, then firmly; resolves when it is gone. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/**
 * How many cores other work keeps busy: a whole-machine CPU sample over `ms` while the
 * harness does nothing (no server of ours is running between scenarios). A figure well
 * above 0 means the measurements that follow share the machine with someone else.
 */
export async function backgroundCores(cores: number, ms = 1000): Promise<number> {
  const before = cpuTimes();
  await sleep(ms);
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * cores : 0;
}
