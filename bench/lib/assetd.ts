import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getJson, httpRequest, uploadFile, type HttpResponse } from "./http.js";
import { stopChild } from "./proc.js";

/** The repository root, from dist/bench/lib/ (compiled) or bench/lib/ (sources). */
export const REPO_ROOT = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../../" : "../../", import.meta.url));
const BIN = join(REPO_ROOT, "bin", "assetd.js");

export interface AssetdServer {
  child: ChildProcess;
  /** The node process serving HTTP (what VmHWM and CPU are read from). */
  pid: number;
  url: string;
  token: string;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
  upload(body: Buffer, options?: UploadOptions): Promise<Manifest>;
  uploadPath(path: string, options?: UploadOptions): Promise<HttpResponse>;
  /** One counter or gauge from /metrics, summed over its label sets (those containing `labels`, if given). */
  metric(name: string, labels?: string): Promise<number>;
  /** The whole /metrics text. */
  metrics(): Promise<string>;
  stats(): Promise<Stats>;
}

export interface UploadOptions {
  contentType?: string;
  filename?: string;
  public?: boolean;
  /** `Prefer: wait=N`: return once metadata extraction made the asset ready. */
  waitSeconds?: number;
}

export interface Manifest {
  id: string;
  status: string;
  size: number;
  sha256: string;
}

export interface Stats {
  logicalBytes: number;
  physicalBytes: number;
  dedupSavedBytes: number;
  assets: { byStatus: Record<string, number> };
  variants: { count: number; bytes: number };
}

/**
 * Starts `node bin/assetd.js serve` (the embedded default) as a real child process with its
 * own data directory, as a user would run it. The same start-up contract the e2e tests
 * rely on: it prints its URL and an admin token on stdout.
 */
export async function startAssetd(dataDir: string, options: { cpuProfileDir?: string; env?: Record<string, string> } = {}): Promise<AssetdServer> {
  await mkdir(dataDir, { recursive: true });
  const nodeArgs = options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  if (options.cpuProfileDir) await mkdir(options.cpuProfileDir, { recursive: true });
  const child = spawn(process.execPath, [...nodeArgs, BIN, "serve", "--print-token"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ASSETD_DATA_DIR: dataDir,
      ASSETD_PORT: "0",
      ASSETD_HOST: "127.0.0.1",
      ASSETD_LOG_LEVEL: "warn",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));

  const deadline = Date.now() + 60_000;
  while (!/export ASSETD_TOKEN=\S+/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`assetd did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /running at (http:\/\/\S+)/.exec(out)![1]!.replace("localhost", "127.0.0.1");
  const token = /export ASSETD_TOKEN=(\S+)/.exec(out)![1]!;
  const auth = { authorization: `Bearer ${token}` };

  const uploadQuery = (o: UploadOptions) => {
    const q = new URLSearchParams();
    if (o.filename) q.set("filename", o.filename);
    if (o.public) q.set("public", "true");
    const s = q.toString();
    return s ? `?${s}` : "";
  };
  const uploadHeaders = (o: UploadOptions): Record<string, string> => ({
    ...auth,
    "content-type": o.contentType ?? "application/octet-stream",
    ...(o.waitSeconds ? { prefer: `wait=${o.waitSeconds}` } : {}),
  });

  const metricsText = async () => {
    const res = await httpRequest(`${url}/metrics`, { headers: auth });
    if (res.status !== 200) throw new Error(`GET /metrics -> ${res.status}`);
    return res.body.toString();
  };

  return {
    child, pid: child.pid!, url, token, dataDir,
    output: () => out,
    // SIGTERM: assetd shuts down and exits 0, which is also when --cpu-prof writes its file.
    stop: () => stopChild(child, "SIGTERM", 30_000),
    async upload(body, o = {}) {
      const res = await httpRequest(`${url}/v1/assets${uploadQuery(o)}`, {
        method: "POST", headers: { ...uploadHeaders(o), "content-length": body.length }, body,
      });
      if (res.status !== 201) throw new Error(`upload -> ${res.status} ${res.body.toString().slice(0, 300)}`);
      return JSON.parse(res.body.toString()) as Manifest;
    },
    uploadPath: (path, o = {}) => uploadFile(`${url}/v1/assets${uploadQuery(o)}`, path, uploadHeaders(o)),
    async metric(name, labels) {
      return sumMetric(await metricsText(), name, labels);
    },
    metrics: () => metricsText(),
    stats: () => getJson<Stats>(`${url}/v1/stats`, token),
  };
}

/** Sums the samples of a metric in Prometheus text format whose labels contain `labels` (0 when absent). */
export function sumMetric(text: string, name: string, labels?: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] === name && (labels === undefined || (match[2] ?? "").includes(labels))) total += Number(match[3]);
  }
  return total;
}
