import { Agent } from "node:http";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import sharp from "sharp";
import ssimModule, { type ssim as ssimFunction } from "ssim.js";
import { bigJpeg } from "../lib/fixtures.js";
import { closedLoop, httpRequest, mergeLoops, type LoopResult } from "../lib/http.js";
import { adminOf, launchAssetd, UNLIMITED } from "../lib/kit.js";
import type { Scenario } from "../lib/types.js";
import type { Sharp } from "sharp";
import { httpOp, sharpOp, type Recipe } from "./cold-transforms.js";

// ssim.js is CommonJS: Node hands ESM its exports object, whose `ssim` is the function.
/**
 * Each request a new recipe with identical work: `bg` (padding and flattening colour) changes
 * nothing on an opaque photo without padding, but is part of the recipe. (cold-transforms
 * varies `h` with `fit=inside`, which the graph does not derive.)
 */
const bg = (i: number) => (i % 0xffffff).toString(16).padStart(6, "0");
const RECIPES: Recipe[] = [
  { label: "w=300 webp", assetd: (i) => `w=300&fmt=webp&bg=${bg(i)}`, ipx: "", sharp: (img: Sharp) => img.resize({ width: 300 }).webp({ quality: 80 }) },
  { label: "w=300 avif", assetd: (i) => `w=300&fmt=avif&bg=${bg(i)}`, ipx: "", sharp: (img: Sharp) => img.resize({ width: 300 }).avif({ quality: 50, effort: 3 }) },
  { label: "w=1200 jpeg", assetd: (i) => `w=1200&fmt=jpeg&bg=${bg(i)}`, ipx: "", sharp: (img: Sharp) => img.resize({ width: 1200 }).jpeg({ quality: 80, mozjpeg: false }) },
  { label: "w=150 h=150 webp", assetd: (i) => `w=150&h=150&fmt=webp&bg=${bg(i)}`, ipx: "", sharp: (img: Sharp) => img.resize({ width: 150, height: 150 }).webp({ quality: 80 }) },
];

const ssim = (ssimModule as unknown as { ssim: typeof ssimFunction }).ssim;

async function pixels(data: Buffer) {
  const { data: raw, info } = await sharp(data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8ClampedArray(raw.buffer, raw.byteOffset, raw.length), width: info.width, height: info.height };
}

/**
 * The transformation graph: cold renders of new recipes of a 20 MP JPEG whose intermediate
 * rungs are cached, through assetd (graph on, the default) vs assetd with the graph off
 * (ASSETD_INTERMEDIATES=false: every render from the original) vs sharp in-process from the
 * original, interleaved in one run; the SSIM of graph-derived against from-original
 * variants; and the first request of brand-new assets (rung not cached yet) on both servers.
 */
export const graph: Scenario = {
  name: "graph",
  title: "cold renders from cached intermediates vs from the original (graph off) and sharp in-process",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick" ? 3 : 20;
    const rounds = ctx.mode === "quick" ? 1 : 4;
    const newAssets = ctx.mode === "quick" ? 2 : 6;
    const lanes = availableParallelism() * 2;
    const source = await bigJpeg(ctx.outDir);
    const bytes = await readFile(source.path);
    // Keep-alive outlasts the other sides' turns: a socket the server closed while idle would hang up mid-measure.
    const env = { ...UNLIMITED, ASSETD_KEEP_ALIVE_TIMEOUT_MS: "120000" };
    const on = await launchAssetd(ctx, result, env, "graph-on");
    const off = await launchAssetd(ctx, result, { ...env, ASSETD_INTERMEDIATES: "false" }, "graph-off");
    const upload = { contentType: "image/jpeg", filename: "source.jpg", public: true, waitSeconds: 60 };
    const onAsset = await on.upload(bytes, upload);
    const offAsset = await off.upload(bytes, upload);
    const agent = new Agent({ keepAlive: true, maxSockets: lanes });
    ctx.defer(() => agent.destroy());

    const ssims: Record<string, number> = {};
    for (const recipe of RECIPES) {
      // One request per recipe renders its rung first (not measured), then the same query on both servers gives the SSIM.
      const query = recipe.assetd(0xfffffe); // a colour the measured loops never reach
      const a = await httpRequest(`${on.url}/a/${onAsset.id}?${query}`, { agent, headers: adminOf(on) });
      const b = await httpRequest(`${off.url}/a/${offAsset.id}?${query}`, { agent, headers: adminOf(off) });
      if (a.status !== 200 || b.status !== 200) throw new Error(`${query}: ${a.status} / ${b.status}`);
      ssims[recipe.label] = ssim(await pixels(a.body), await pixels(b.body), { downsample: false, ssim: "weber" }).mssim;
    }
    const rungs = await on.metric("assetd_intermediate_renders_total");
    ctx.log(`rungs cached: ${rungs}; SSIM graph vs original: ${Object.entries(ssims).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ")}`);

    const perRecipe: Record<string, unknown> = {};
    for (const recipe of RECIPES) {
      let sentOn = 0;
      let sentOff = 0;
      const sides: Array<{ name: string; op: (i: number) => Promise<void>; runs: LoopResult[] }> = [
        { name: "assetd (graph)", op: httpOp(agent, () => `${on.url}/a/${onAsset.id}?${recipe.assetd(sentOn++)}`, true, adminOf(on)), runs: [] },
        { name: "assetd (graph off)", op: httpOp(agent, () => `${off.url}/a/${offAsset.id}?${recipe.assetd(sentOff++)}`, true, adminOf(off)), runs: [] },
        { name: "sharp in-process", op: sharpOp(source.path, recipe), runs: [] },
      ];
      for (const side of sides) {
        const warm = await closedLoop(lanes, 0, side.op, lanes);
        if (warm.errors) throw new Error(`${side.name} ${recipe.label} failed: ${String(warm.firstError)}`);
      }
      for (let round = 0; round < rounds; round++) {
        for (const side of sides) {
          const loop = await closedLoop(lanes, (seconds / rounds) * 1000, side.op);
          if (loop.errors) throw new Error(`${side.name} ${recipe.label}: ${loop.errors} errors, first: ${String(loop.firstError)}`);
          side.runs.push(loop);
        }
      }
      const [g, o, s] = sides.map((side) => mergeLoops(side.runs)) as [LoopResult, LoopResult, LoopResult];
      ctx.log(`${recipe.label}: graph ${g.perSecond.toFixed(1)}/s, graph off ${o.perSecond.toFixed(1)}/s, sharp ${s.perSecond.toFixed(1)}/s`);
      const ratio = g.perSecond / o.perSecond;
      const similarity = ssims[recipe.label]!;
      result.rows.push(
        { metric: `${recipe.label}: cold renders/s`, unit: "", assetd: g.perSecond, peer: o.perSecond, peerName: "assetd, graph off",
          ratio, target: "goal ≥ 3×, bar ≥ 2×", pass: ratio >= 2 && similarity >= 0.99 },
        { metric: `${recipe.label}: cold renders/s`, unit: "", assetd: g.perSecond, peer: s.perSecond, peerName: "sharp in-process", ratio: g.perSecond / s.perSecond },
        { metric: `${recipe.label}: SSIM graph vs original`, unit: "", assetd: similarity, target: "≥ 0.99", pass: similarity >= 0.99 },
      );
      perRecipe[recipe.label] = { graph: g.perSecond, graphOff: o.perSecond, sharp: s.perSecond, ssim: similarity };
    }
    if (await on.metric("assetd_intermediate_renders_total") !== rungs) throw new Error("a measured request rendered a rung: the rungs were not all cached");

    // Brand-new assets: the first request renders the rung too (graph on) or renders from the original (graph off).
    const firsts: Record<string, number[]> = { on: [], off: [] };
    for (let k = 0; k < newAssets; k++) {
      const fresh = await sharp(source.path).jpeg({ quality: 89 - k, mozjpeg: false }).toBuffer();
      for (const [name, server] of [["on", on], ["off", off]] as const) {
        const asset = await server.upload(fresh, upload);
        const started = performance.now();
        const res = await httpRequest(`${server.url}/a/${asset.id}?w=300&fmt=webp`, { agent, headers: adminOf(server) });
        if (res.status !== 200) throw new Error(`first request: ${res.status}`);
        firsts[name]!.push(performance.now() - started);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const firstOn = median(firsts.on!);
    const firstOff = median(firsts.off!);
    result.rows.push({ metric: "first request of a new asset (w=300 webp), median", unit: "ms", assetd: firstOn, peer: firstOff,
      peerName: "assetd, graph off", ratio: firstOn / firstOff, target: "≈ 1× (noise)" });
    result.notes.push(
      `Source: ${basename(source.from)} upscaled to 20 MP (${(source.bytes / 1e6).toFixed(1)} MB JPEG). Each request a new recipe (bg varies, which changes nothing on an opaque photo); ` +
        `${lanes} concurrent requests, ${seconds} s per side and recipe in ${rounds} interleaved round(s). Rungs rendered before measuring: ${rungs}.`,
      `SSIM (ssim.js weber, no downsampling) of the graph's variant against the graph-off server's for the same query: the delivered lossy files.`,
      `First requests: ${newAssets} new 20 MP assets per server, one at a time, w=300 webp; graph on ${firsts.on!.map((v) => v.toFixed(0)).join("/")} ms, ` +
        `graph off ${firsts.off!.map((v) => v.toFixed(0)).join("/")} ms.`,
    );
    result.details = { ...result.details, lanes, seconds, rounds, perRecipe, firsts, rungs };
  },
};
