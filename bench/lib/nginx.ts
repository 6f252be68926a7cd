import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./assetd.js";
import { childPids, freePort, stopChild, waitForPort } from "./proc.js";

/** nginx as the static-file peer, run in the foreground with a config of our own. */

function which(): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin", "/sbin"]) {
    if (!dir) continue;
    const candidate = join(dir, "nginx");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** The nginx binary, installing it through bench/setup.sh (apt) when missing; undefined if impossible. */
export function findNginx(log: (message: string) => void): string | undefined {
  const found = which();
  if (found) return found;
  log("nginx not found: running bench/setup.sh");
  const setup = spawnSync("bash", [join(REPO_ROOT, "bench", "setup.sh")], { encoding: "utf8", timeout: 300_000 });
  for (const line of `${setup.stdout ?? ""}${setup.stderr ?? ""}`.split("\n")) if (line.trim()) log(line.trim());
  return which();
}

export function nginxVersion(binary: string): string {
  try {
    // nginx prints its version on stderr.
    const result = spawnSync(binary, ["-v"], { encoding: "utf8" });
    return (result.stderr || result.stdout).trim().replace(/^nginx version:\s*/, "");
  } catch {
    return "unknown";
  }
}

export interface NginxServer {
  url: string;
  masterPid: number;
  workerPids(): number[];
  config: string;
  stop(): Promise<void>;
}

/**
 * Serves `root` on a loopback port with `workers` worker processes: daemon off, its own
 * pid/error log/temp paths under `dir`, access log off, sendfile on. The system service
 * and /etc/nginx are never touched (`-c` and `-p` point here; `-e` keeps the start-up
 * error log out of /var/log).
 */
export async function startNginx(binary: string, dir: string, root: string, workers: number): Promise<NginxServer> {
  const port = await freePort();
  await mkdir(join(dir, "temp"), { recursive: true });
  // Workers drop to an unprivileged user (nobody) when nginx runs as root: every directory
  // from the temp root down to `root` must be traversable by others (mkdtemp makes 0700).
  for (let d = root; d.startsWith(`${tmpdir()}/`); d = dirname(d)) await chmod(d, 0o755);
  const temp = (name: string) => `${name}_temp_path ${join(dir, "temp", name)};`;
  const config = `daemon off;
worker_processes ${workers};
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  types { image/webp webp; image/jpeg jpg; }
  default_type application/octet-stream;
  ${temp("client_body")} ${temp("proxy")} ${temp("fastcgi")} ${temp("uwsgi")} ${temp("scgi")}
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
`;
  const configPath = join(dir, "nginx.conf");
  await writeFile(configPath, config);
  const test = spawnSync(binary, ["-t", "-q", "-p", dir, "-c", configPath, "-e", join(dir, "error.log")], { encoding: "utf8" });
  if (test.status !== 0) throw new Error(`nginx -t failed: ${test.stderr}`);
  const child: ChildProcess = spawn(binary, ["-p", dir, "-c", configPath, "-e", join(dir, "error.log")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, child);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`nginx did not start: ${(error as Error).message}\n${stderr}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    masterPid: child.pid!,
    workerPids: () => childPids(child.pid!),
    config,
    // SIGQUIT is nginx's graceful shutdown.
    stop: () => stopChild(child, "SIGQUIT", 10_000),
  };
}
