import { Agent } from "node:http";
import { readFile } from "node:fs/promises";
import { bigJpeg } from "../lib/fixtures.js";
import { httpRequest, percentile } from "../lib/http.js";
import { adminOf, launchAssetd, UNLIMITED } from "../lib/kit.js";
import type { Scenario } from "../lib/types.js";

const CONCURRENT = 200;

/** 200 concurrent requests for one uncached variant: single-flight must render it once. */
export const stampede: Scenario = {
  name: "stampede",
  title: "200 concurrent identical misses",
  async run(ctx, result) {
    const rounds = ctx.mode === "quick" ? 1 : 3;
    const source = await bigJpeg(ctx.outDir);
    const server = await launchAssetd(ctx, result, UNLIMITED);
    const asset = await server.upload(await readFile(source.path), { contentType: "image/jpeg", filename: "source.jpg", public: true, waitSeconds: 30 });

    const perRound: unknown[] = [];
    let worstRenders = 0;
    let bestRenders = Infinity;
    let failures = 0;
    for (let round = 0; round < rounds; round++) {
      const url = `${server.url}/a/${asset.id}?w=${640 + round}&fmt=webp`;
      const before = await server.metric("assetd_variant_renders_total");
      const collapsedBefore = await server.metric("assetd_variant_collapsed_total");
      // One socket per request, all opened at once: 200 truly concurrent misses.
      const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
      const started = performance.now();
      const outcomes = await Promise.all(Array.from({ length: CONCURRENT }, async () => {
        const t = performance.now();
        try {
          const res = await httpRequest(url, { agent, headers: adminOf(server) });
          return { status: res.status, cache: String(res.headers["x-cache"]), ms: performance.now() - t };
        } catch (error) {
          return { status: 0, cache: "", ms: performance.now() - t, error: (error as Error).message };
        }
      }));
      const wall = performance.now() - started;
      agent.destroy();
      const renders = (await server.metric("assetd_variant_renders_total")) - before;
      const collapsed = (await server.metric("assetd_variant_collapsed_total")) - collapsedBefore;
      const errors = outcomes.filter((o) => o.status !== 200).length;
      const misses = outcomes.filter((o) => o.cache === "MISS").length;
      const ms = outcomes.map((o) => o.ms);
      failures += errors;
      worstRenders = Math.max(worstRenders, renders);
      bestRenders = Math.min(bestRenders, renders);
      perRound.push({ url, renders, collapsed, errors, misses, hits: CONCURRENT - errors - misses, wallMs: wall, p50Ms: percentile(ms, 50), maxMs: Math.max(...ms) });
      ctx.log(`round ${round + 1}: ${renders} render(s), ${misses} MISS + ${CONCURRENT - errors - misses} HIT, ${errors} errors, ` +
        `${collapsed} collapsed, all answered in ${wall.toFixed(0)} ms`);
    }
    result.rows.push(
      { metric: `renders for ${CONCURRENT} concurrent identical misses${rounds > 1 ? ` (worst of ${rounds} rounds)` : ""}`, unit: "",
        assetd: worstRenders, target: "exactly 1", pass: worstRenders === 1 && bestRenders === 1 },
      { metric: "failed requests", unit: "", assetd: failures, target: "0", pass: failures === 0 },
    );
    result.notes.push(
      `${CONCURRENT} GETs of one uncached variant of the 20 MP JPEG, each on its own connection, started together; renders counted ` +
        "from /metrics (`assetd_variant_renders_total` before and after). Requests that arrive while the render runs wait for it " +
        "(`assetd_variant_collapsed_total`); any arriving after it finished are cache hits.",
    );
    result.details = { ...result.details, concurrent: CONCURRENT, rounds: perRound };
  },
};
