import { Agent } from "node:http";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { bigJpeg } from "../lib/fixtures.js";
import { brief, closedLoop, httpRequest } from "../lib/http.js";
import { adminOf, launchAssetd, UNLIMITED } from "../lib/kit.js";
import type { Scenario } from "../lib/types.js";
import { httpOp, RECIPES } from "./cold-transforms.js";

/**
 * The same recipe repeated (cache hits) against distinct recipes (every request renders),
 * same source, same concurrency, same driver.
 */
export const warmVsCold: Scenario = {
  name: "warm-vs-cold",
  title: "warm (cached) vs cold variant requests",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick" ? 2 : 10;
    const lanes = availableParallelism() * 2;
    const recipe = RECIPES[0]!;
    const source = await bigJpeg(ctx.outDir);
    const server = await launchAssetd(ctx, result, UNLIMITED);
    const asset = await server.upload(await readFile(source.path), { contentType: "image/jpeg", filename: "source.jpg", public: true, waitSeconds: 30 });
    const agent = new Agent({ keepAlive: true, maxSockets: lanes });
    ctx.defer(() => agent.destroy());

    // Warm-up first (its recipes are then cached), the measured requests after them.
    let offset = 0;
    const coldUrl = (i: number) => `${server.url}/a/${asset.id}?${recipe.assetd(offset + i)}`;
    offset += (await closedLoop(lanes, 0, httpOp(agent, coldUrl, true, adminOf(server)), lanes)).ops + lanes;
    const cold = await closedLoop(lanes, seconds * 1000, httpOp(agent, coldUrl, true, adminOf(server)));
    if (cold.errors) throw new Error(`cold requests failed: ${String(cold.firstError)}`);

    const warmPath = `${server.url}/a/${asset.id}?w=300&fmt=webp`;
    const first = await httpRequest(warmPath);
    if (first.status !== 200) throw new Error(`${warmPath} -> ${first.status}`);
    let misses = 0;
    const warmOp = async () => {
      const res = await httpRequest(warmPath, { agent, headers: adminOf(server) });
      if (res.status !== 200) throw new Error(`${warmPath} -> ${res.status}`);
      if (res.headers["x-cache"] !== "HIT") misses++;
    };
    await closedLoop(lanes, 500, warmOp);
    const warm = await closedLoop(lanes, seconds * 1000, warmOp);
    if (warm.errors) throw new Error(`warm requests failed: ${String(warm.firstError)}`);
    ctx.log(`cold ${cold.perSecond.toFixed(1)} req/s (p50 ${cold.p50.toFixed(0)} ms), warm ${warm.perSecond.toFixed(0)} req/s (p50 ${warm.p50.toFixed(2)} ms)`);

    const ratio = warm.perSecond / cold.perSecond;
    result.rows.push(
      { metric: "req/s, w=300 webp of a 20 MP JPEG", unit: "", assetd: warm.perSecond, peer: cold.perSecond, peerName: "assetd cold (distinct recipes)",
        ratio, target: "warm ≥ 20× cold", pass: ratio >= 20 },
      { metric: "p50 latency ms", unit: "", assetd: warm.p50, peer: cold.p50, peerName: "assetd cold", ratio: cold.p50 / warm.p50 },
      { metric: "warm requests not served from the cache", unit: "", assetd: misses, target: "0", pass: misses === 0 },
    );
    result.notes.push(
      `${lanes} concurrent requests for ${seconds} s each, the closed-loop driver of cold-transforms: cold = a new recipe per request ` +
        "(each renders), warm = `?w=300&fmt=webp` repeated after one render (each a cache hit). The ratio column is warm ÷ cold " +
        "(for latency, cold ÷ warm). The driver is a plain node:http client, which bounds the warm figure from below.",
    );
    result.details = { ...result.details, lanes, seconds, cold: brief(cold), warm: brief(warm), misses };
  },
};
