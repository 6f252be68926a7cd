import { randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { getJson, httpRequest, percentile } from "../lib/http.js";
import { launchAssetd } from "../lib/kit.js";
import type { Scenario } from "../lib/types.js";

const UPLOADS = 200;
const SIZE = 1 << 20;
const DUPLICATE_SHARE = 0.3;

/** 200 concurrent 1 MiB uploads, 30 % of them copies of others: no error, none lost, dedup exact. */
export const concurrentUploads: Scenario = {
  name: "concurrent-uploads",
  title: "200 concurrent 1 MiB uploads, 30 % duplicates",
  async run(ctx, result) {
    const server = await launchAssetd(ctx, result);
    const duplicates = Math.round(UPLOADS * DUPLICATE_SHARE);
    const unique = UPLOADS - duplicates;
    const originals = Array.from({ length: unique }, () => randomBytes(SIZE));
    // Duplicates copy random originals and are shuffled among them, so a copy may race its original.
    const bodies = [...originals, ...Array.from({ length: duplicates }, (_, i) => originals[(i * 7919) % unique]!)];
    for (let i = bodies.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
    }

    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const started = performance.now();
    const outcomes = await Promise.all(bodies.map(async (body, i) => {
      const t = performance.now();
      try {
        const res = await httpRequest(`${server.url}/v1/assets?filename=u${i}.bin`, {
          method: "POST", agent, body,
          headers: { authorization: `Bearer ${server.token}`, "content-type": "application/octet-stream", "content-length": body.length },
        });
        return { status: res.status, ms: performance.now() - t, detail: res.status === 201 ? "" : res.body.toString().slice(0, 200) };
      } catch (error) {
        return { status: 0, ms: performance.now() - t, detail: (error as Error).message };
      }
    }));
    const wall = (performance.now() - started) / 1000;
    agent.destroy();

    const errors = outcomes.filter((o) => o.status !== 201);
    const ms = outcomes.filter((o) => o.status === 201).map((o) => o.ms);
    const stats = await server.stats();
    const listed = await getJson<{ items: unknown[] }>(`${server.url}/v1/assets?limit=1000`, server.token);
    const expectedLogical = UPLOADS * SIZE;
    const expectedPhysical = unique * SIZE;
    const exact = stats.logicalBytes === expectedLogical && stats.physicalBytes === expectedPhysical;
    ctx.log(`${UPLOADS - errors.length}/${UPLOADS} uploaded in ${wall.toFixed(2)} s, p95 ${percentile(ms, 95).toFixed(0)} ms; ` +
      `logical ${stats.logicalBytes} physical ${stats.physicalBytes}; ${listed.items.length} listed`);
    if (errors.length) ctx.log(`first error: ${errors[0]!.status} ${errors[0]!.detail}`);
    // A health check that the server still answers.
    const health = await httpRequest(`${server.url}/healthz`);

    result.rows.push(
      { metric: "failed uploads", unit: "", assetd: errors.length, target: "0", pass: errors.length === 0 },
      { metric: "assets listed afterwards (none lost)", unit: "", assetd: listed.items.length, peer: UPLOADS, peerName: "uploads sent",
        ratio: listed.items.length / UPLOADS, target: "= 1", pass: listed.items.length === UPLOADS },
      { metric: "stored MiB vs logical MiB (/v1/stats)", unit: "", assetd: stats.physicalBytes / SIZE, peer: stats.logicalBytes / SIZE,
        peerName: "logical", ratio: stats.physicalBytes / stats.logicalBytes, target: `= ${unique}/${UPLOADS} exactly`, pass: exact },
      { metric: "uploads/s", unit: "", assetd: (UPLOADS - errors.length) / wall },
      { metric: "p95 latency ms", unit: "", assetd: percentile(ms, 95) },
    );
    result.notes.push(
      `${UPLOADS} raw POSTs of 1 MiB random bodies started together, each on its own connection; ${duplicates} (${DUPLICATE_SHARE * 100} %) ` +
        `repeat one of the ${unique} distinct bodies, shuffled so copies race their originals. uploads/s = completed uploads ÷ wall time ` +
        "of the whole burst; latency per upload from request start to the 201.",
      `Stored bytes are /v1/stats physicalBytes (each distinct blob once) against logicalBytes (every asset); exact means ` +
        `${expectedPhysical} and ${expectedLogical}. /healthz afterwards: ${health.status}.`,
    );
    result.details = {
      ...result.details, uploads: UPLOADS, duplicates, wallSeconds: wall, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95),
      maxMs: Math.max(...ms), errors: errors.slice(0, 5), stats, listed: listed.items.length,
    };
  },
};
