import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { AssetdServer } from "../lib/assetd.js";
import { largestPhoto } from "../lib/fixtures.js";
import { httpRequest } from "../lib/http.js";
import { adminOf, launchAssetd, UNLIMITED } from "../lib/kit.js";
import { startBareNode } from "../lib/bare-node.js";
import { measureSides, pinningNote, requireWrk, type SideResult } from "../lib/pinned.js";
import { pin } from "../lib/wrk.js";
import { findNginx, startNginx } from "../lib/nginx.js";
import { SkipScenario, type Scenario } from "../lib/types.js";

const CONNECTIONS = 64;
const TARGET_BYTES = 40_000;
const NGINX_WORKERS = 1;

/**
 * A cached WebP variant (~40 KB) from assetd against the same bytes from nginx (one worker,
 * sendfile: the static-file ceiling) and from a bare `node:http` server holding them in a
 * Buffer (Node's own ceiling). Anonymous requests for a public asset, keep-alive, 64
 * connections, wrk on its own core, each server pinned to the other one.
 */
export const cachedDelivery: Scenario = {
  name: "cached-delivery",
  title: "cached variant delivery vs nginx and bare node:http, pinned",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick" ? 2 : 15;
    const warmup = ctx.mode === "quick" ? 1 : 3;
    const pinning = requireWrk(ctx.log);
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
    const file = join(root, "variant.webp");
    await writeFile(file, hit.body);
    const nginx = await startNginx(nginxBinary, join(ctx.tmpDir, "nginx"), root, NGINX_WORKERS);
    ctx.defer(() => nginx.stop());
    const bare = await startBareNode(file, "image/webp", pinning?.server);
    ctx.defer(() => bare.stop());
    for (const peer of [nginx.url, bare.url]) {
      const res = await httpRequest(`${peer}/variant.webp`);
      if (res.status !== 200 || sha(res.body) !== sha(hit.body)) {
        throw new Error(`${peer} does not serve the same bytes: ${res.status} ${res.body.length} bytes`);
      }
    }
    if (pinning) for (const pid of [server.pid, nginx.masterPid, ...nginx.workerPids()]) pin(pid, pinning.server);

    const measured = await measureSides([
      { name: "assetd", url: `${server.url}${path}`, pids: () => [server.pid], server },
      { name: "nginx", url: `${nginx.url}/variant.webp`, pids: () => nginx.workerPids() },
      { name: "node", url: `${bare.url}/variant.webp`, pids: () => [bare.pid] },
    ], { connections: CONNECTIONS, warmup, seconds, pinning, log: ctx.log });
    const a = measured.assetd!;
    const n = measured.nginx!;
    const b = measured.node!;
    const perCore = (r: SideResult) => r.perCore ?? r.rps;
    const toNginx = perCore(a) / perCore(n);
    const toNode = perCore(a) / perCore(b);
    const kb = Math.round(bytes / 1000);
    result.rows.push(
      { metric: `req/s per server core, ${kb} KB WebP hit, ${CONNECTIONS} conns`, unit: "", assetd: perCore(a), peer: perCore(n),
        peerName: `nginx, ${NGINX_WORKERS} worker, sendfile`, ratio: toNginx, target: "≥ 0.3×", pass: toNginx >= 0.3 },
      { metric: "req/s per server core", unit: "", assetd: perCore(a), peer: perCore(b), peerName: "bare node:http, same Buffer",
        ratio: toNode, target: "≥ 0.6×", pass: toNode >= 0.6 },
      { metric: "req/s (absolute)", unit: "", assetd: a.rps, peer: n.rps, peerName: `nginx (node: ${Math.round(b.rps)})` },
      { metric: "p99 latency ms", unit: "", assetd: a.p99, peer: n.p99, peerName: `nginx (node: ${b.p99.toFixed(2)})`, target: "≤ 10 ms", pass: a.p99 <= 10 },
      { metric: "p50 latency ms", unit: "", assetd: a.p50, peer: n.p50, peerName: `nginx (node: ${b.p50.toFixed(2)})` },
      { metric: "event-loop delay p99 ms", unit: "", assetd: a.loop?.p99 ?? null },
      { metric: "longest event-loop stall ms", unit: "", assetd: a.loop?.max ?? null, target: "≤ 20 ms", pass: (a.loop?.max ?? Infinity) <= 20 },
    );
    const bad = (r: SideResult) => r.errors + r.non2xx;
    if (bad(a) + bad(n) + bad(b) > 0) {
      result.rows.push({ metric: "errors + non-2xx", unit: "", assetd: bad(a), peer: bad(n) + bad(b), target: "0", pass: bad(a) === 0 });
    }
    result.notes.push(
      pinningNote(pinning, CONNECTIONS, warmup, seconds),
      `Anonymous GET of a public asset's cached variant \`?w=${width}&fmt=webp\` (${bytes} bytes, from ${basename(photo.path)}); ` +
        "nginx serves the identical bytes as a file, the bare node:http server from one Buffer with the same Content-Type and Cache-Control.",
      `CPU during the measured runs: assetd ${a.serverCpu?.toFixed(2)} cores (wrk ${a.loadGeneratorCpu.toFixed(2)}), nginx's worker ` +
        `${n.serverCpu?.toFixed(2)} (wrk ${n.loadGeneratorCpu.toFixed(2)}), bare node ${b.serverCpu?.toFixed(2)} (wrk ${b.loadGeneratorCpu.toFixed(2)}). ` +
        "A server well under 1.0 core with wrk well under 1.0 shares its core with other work on the machine.",
      "Event-loop figures: prom-client's monitorEventLoopDelay (10 ms sampling) read from assetd's /metrics right before and after the measured run, less the 10 ms interval.",
    );
    result.details = { ...result.details, variant: { path, width, bytes }, assetd: a, nginx: n, node: b, connections: CONNECTIONS, seconds, pinning, nginxConfig: nginx.config };
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
