import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { AssetdServer } from "../lib/assetd.js";
import { largestPhoto } from "../lib/fixtures.js";
import { httpRequest } from "../lib/http.js";
import { adminOf, launchAssetd, UNLIMITED } from "../lib/kit.js";
import { bodyAccumulationDisabled, describeLoad, runLoad, type LoadResult } from "../lib/load.js";
import { findNginx, startNginx } from "../lib/nginx.js";
import { SkipScenario, type Scenario } from "../lib/types.js";

const CONNECTIONS = 64;
const TARGET_BYTES = 60_000;
const NGINX_WORKERS = 1;

/**
 * A cached WebP variant (~60 KB) from assetd against the same bytes as a static file from
 * nginx with as many worker processes as assetd has event loops (one). Anonymous requests
 * for a public asset, keep-alive, 64 connections.
 */
export const cachedDelivery: Scenario = {
  name: "cached-delivery",
  title: "cached variant delivery vs nginx static file",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick" ? 3 : 20;
    const warmup = ctx.mode === "quick" ? 1 : 3;
    const nginxBinary = findNginx(ctx.log);
    if (!nginxBinary) throw new SkipScenario("nginx not available");

    const server = await launchAssetd(ctx, result, UNLIMITED);
    const photo = await largestPhoto();
    const asset = await server.upload(await readFile(photo.path), {
      contentType: "image/jpeg", filename: basename(photo.path), public: true, waitSeconds: 10,
    });
    const { width, bytes } = await pickWidth(server, asset.id, TARGET_BYTES);
    const path = `/a/${asset.id}?w=${width}&fmt=webp`;
    const hit = await httpRequest(`${server.url}${path}`, { headers: adminOf(server) });
    if (hit.status !== 200 || hit.headers["x-cache"] !== "HIT") {
      throw new Error(`the variant is not served from the cache: ${hit.status} X-Cache=${String(hit.headers["x-cache"])}`);
    }
    ctx.log(`variant ${path}: ${bytes} bytes (X-Cache: HIT)`);

    const root = join(ctx.tmpDir, "nginx", "root");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "variant.webp"), hit.body);
    const nginx = await startNginx(nginxBinary, join(ctx.tmpDir, "nginx"), root, NGINX_WORKERS);
    ctx.defer(() => nginx.stop());
    const fromNginx = await httpRequest(`${nginx.url}/variant.webp`);
    if (fromNginx.status !== 200 || sha(fromNginx.body) !== sha(hit.body)) {
      throw new Error(`nginx does not serve the same bytes: ${fromNginx.status} ${fromNginx.body.length} bytes ${fromNginx.body.toString().slice(0, 200)}`);
    }

    const sides = {
      assetd: { url: `${server.url}${path}`, pids: () => [server.pid] },
      nginx: { url: `${nginx.url}/variant.webp`, pids: () => nginx.workerPids() },
    };
    const measured: Record<string, LoadResult> = {};
    for (const [name, side] of Object.entries(sides)) {
      await runLoad({ url: side.url, connections: CONNECTIONS, seconds: warmup });
      measured[name] = await runLoad({ url: side.url, connections: CONNECTIONS, seconds, serverPids: side.pids });
      ctx.log(`${name}: ${describeLoad(measured[name]!)}`);
    }
    const a = measured.assetd!;
    const n = measured.nginx!;
    const ratio = a.rps / n.rps;
    result.rows.push(
      { metric: `req/s, ${Math.round(bytes / 1000)} KB WebP, ${CONNECTIONS} conns`, unit: "", assetd: a.rps, peer: n.rps,
        peerName: `nginx static, ${NGINX_WORKERS} worker`, ratio, target: "≥ 0.5×", pass: ratio >= 0.5 },
      { metric: "p99 latency ms", unit: "", assetd: a.p99, peer: n.p99, peerName: "nginx", ratio: null, target: "≤ 10 ms", pass: a.p99 <= 10 },
      { metric: "p50 latency ms", unit: "", assetd: a.p50, peer: n.p50, peerName: "nginx" },
    );
    if (a.errors + a.non2xx + n.errors + n.non2xx > 0) {
      result.rows.push({ metric: "errors + non-2xx", unit: "", assetd: a.errors + a.non2xx, peer: n.errors + n.non2xx, target: "0", pass: a.errors + a.non2xx === 0 });
    }
    result.notes.push(
      `${CONNECTIONS} keep-alive connections for ${seconds} s per side after a ${warmup} s warm-up; anonymous GET of a public asset's cached variant ` +
        `\`?w=${width}&fmt=webp\` (${bytes} bytes, from ${basename(photo.path)}); nginx serves the identical bytes as a file.`,
      `nginx runs with worker_processes ${NGINX_WORKERS} because assetd is one Node process (one event loop); sendfile on, access log off, keepalive_requests 1000000.`,
      `autocannon runs in the harness process on the same cores: during the runs assetd used ${a.serverCpu?.toFixed(2)} cores ` +
        `(autocannon ${a.loadGeneratorCpu.toFixed(2)}), nginx's worker ${n.serverCpu?.toFixed(2)} cores (autocannon ${n.loadGeneratorCpu.toFixed(2)}). ` +
        `A load generator near 1.0 core is itself the limit of that side's figure.`,
      "Latency percentiles come from autocannon's histogram at 1 ms resolution.",
      bodyAccumulationDisabled
        ? "autocannon's per-response body string (kept only for its expectBody option) is disabled at run time: decoding 60 KB bodies " +
          "as UTF-8 otherwise caps it near 1,100 req/s on one core, for nginx and assetd alike."
        : "WARNING: autocannon's per-response body decoding could not be disabled; both figures are likely capped by the load generator.",
    );
    result.details = { ...result.details, variant: { path, width, bytes }, assetd: a, nginx: n, connections: CONNECTIONS, seconds, nginxConfig: nginx.config };
  },
};

/** Binary search over widths for a WebP variant near `target` bytes (each probe renders once). */
async function pickWidth(server: AssetdServer, id: string, target: number): Promise<{ width: number; bytes: number }> {
  let lo = 200;
  let hi = 2400;
  let best = { width: 0, bytes: 0 };
  for (let i = 0; i < 8; i++) {
    const width = Math.round((lo + hi) / 2);
    const res = await httpRequest(`${server.url}/a/${id}?w=${width}&fmt=webp`);
    if (res.status !== 200) throw new Error(`variant w=${width} -> ${res.status} ${res.body.toString().slice(0, 200)}`);
    const bytes = res.body.length;
    if (Math.abs(bytes - target) < Math.abs(best.bytes - target)) best = { width, bytes };
    if (Math.abs(bytes - target) / target < 0.05) break;
    if (bytes < target) lo = width;
    else hi = width;
  }
  return best;
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
