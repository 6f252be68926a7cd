import { Agent } from "node:http";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import sharp, { type Sharp } from "sharp";
import { bigJpeg, SOURCE_HEIGHT, SOURCE_WIDTH } from "../lib/fixtures.js";
import { closedLoop, httpRequest, type LoopResult } from "../lib/http.js";
import { startIpx } from "../lib/ipx.js";
import { launchAssetd } from "../lib/kit.js";
import { cpuMeter } from "../lib/proc.js";
import type { Scenario } from "../lib/types.js";

/** assetd's defaults (README): AVIF effort 3, quality 80 for JPEG/WebP and 50 for AVIF. */
const AVIF_EFFORT = 3;

export interface Recipe {
  label: string;
  /** assetd query for request i: a distinct recipe every time, identical work (see below). */
  assetd(i: number): string;
  /** ipx modifiers; ipx keeps no result cache, so the same URL renders every time. */
  ipx: string;
  /** The same operation through sharp in this process. */
  sharp(image: Sharp, i: number): Sharp;
}

/**
 * Every assetd request names a distinct recipe so nothing is served from the cache: `h`
 * grows by 1 px per request with `fit=inside`. Since `h` (>= 3000) never binds for these
 * widths, the output is pixel-for-pixel the `w`-only image: distinct cache keys, identical
 * work. (Varying `w` itself would make later requests bigger renders.)
 */
const H0 = 3000;
export const RECIPES: Recipe[] = [
  {
    label: "w=300 webp",
    assetd: (i) => `w=300&h=${H0 + i}&fit=inside&fmt=webp`,
    ipx: "w_300,f_webp",
    sharp: (img, i) => img.resize({ width: 300, height: H0 + i, fit: "inside", withoutEnlargement: true }).webp({ quality: 80 }),
  },
  {
    label: "w=300 avif",
    assetd: (i) => `w=300&h=${H0 + i}&fit=inside&fmt=avif`,
    ipx: "w_300,f_avif",
    sharp: (img, i) => img.resize({ width: 300, height: H0 + i, fit: "inside", withoutEnlargement: true })
      .avif({ quality: 50, effort: AVIF_EFFORT }),
  },
  {
    label: "w=1200 jpeg",
    assetd: (i) => `w=1200&h=${H0 + i}&fit=inside&fmt=jpeg`,
    ipx: "w_1200,f_jpeg",
    sharp: (img, i) => img.resize({ width: 1200, height: H0 + i, fit: "inside", withoutEnlargement: true })
      .jpeg({ quality: 80, mozjpeg: false }),
  },
];

/** The in-process ceiling: sharp as assetd's engine configures it, from the file on disk. */
export function sharpOp(path: string, recipe: Recipe): (i: number) => Promise<void> {
  // assetd turns libvips' operation cache off (configure-sharp.ts); so does the ceiling,
  // or repeated loads of the same file would be cache hits.
  sharp.cache(false);
  return async (i) => {
    const image = sharp(path, { failOn: "error", limitInputPixels: 100_000_000 }).autoOrient();
    await recipe.sharp(image, i).toBuffer();
  };
}

/** GET that must be 200 (and, for assetd, a cache miss). */
export function httpOp(agent: Agent, url: (i: number) => string, expectMiss: boolean): (i: number) => Promise<void> {
  return async (i) => {
    const res = await httpRequest(url(i), { agent });
    if (res.status !== 200) throw new Error(`${url(i)} -> ${res.status} ${res.body.toString().slice(0, 200)}`);
    if (expectMiss && res.headers["x-cache"] !== "MISS") throw new Error(`${url(i)} was not a miss (X-Cache ${String(res.headers["x-cache"])})`);
  };
}

/**
 * Cold renders of a ~20 MP JPEG: assetd (each request a distinct recipe, so each renders)
 * vs ipx serving the same file with the same parameters vs sharp called in this process
 * (the engine's ceiling), all three driven by the same closed loop at the same concurrency.
 */
export const coldTransforms: Scenario = {
  name: "cold-transforms",
  title: "cold transforms of a 20 MP JPEG vs sharp in-process and ipx",
  async run(ctx, result) {
    const seconds = ctx.mode === "quick" ? 2 : 20;
    const lanes = availableParallelism() * 2;
    const source = await bigJpeg(ctx.outDir);
    ctx.log(`source ${basename(source.path)} (${(source.bytes / 1e6).toFixed(1)} MB, from ${basename(source.from)})`);

    const server = await launchAssetd(ctx, result);
    const asset = await server.upload(await readFile(source.path), { contentType: "image/jpeg", filename: "source.jpg", public: true, waitSeconds: 30 });
    const ipxDir = join(ctx.tmpDir, "ipx");
    await mkdir(ipxDir, { recursive: true });
    await copyFile(source.path, join(ipxDir, "source.jpg"));
    const ipx = await startIpx(ipxDir);
    ctx.defer(() => ipx.stop());
    const agent = new Agent({ keepAlive: true, maxSockets: lanes });
    ctx.defer(() => agent.destroy());

    const perRecipe: Record<string, unknown> = {};
    let assetdRequests = 0;
    const rendersBefore = await server.metric("assetd_variant_renders_total");
    for (const recipe of RECIPES) {
      // Each side: a short warm-up (2 ops per lane, not counted), then the measured loop.
      // Offsets keep every assetd request distinct across warm-up and measurement.
      let offset = 0;
      const assetdUrl = (i: number) => `${server.url}/a/${asset.id}?${recipe.assetd(offset + i)}`;
      const sides: Array<[string, (i: number) => Promise<void>, () => number[]]> = [
        ["sharp in-process", sharpOp(source.path, recipe), () => [process.pid]],
        ["assetd", httpOp(agent, assetdUrl, true), () => [server.pid]],
        ["ipx", httpOp(agent, () => `${ipx.url}/${recipe.ipx}/source.jpg`, false), () => [ipx.pid]],
      ];
      const figures: Record<string, LoopResult & { cpu: number }> = {};
      for (const [name, op, pids] of sides) {
        const warm = await closedLoop(lanes, 0, op, lanes);
        if (name === "assetd") { offset += warm.ops + warm.errors; assetdRequests += warm.ops + warm.errors; }
        if (warm.errors) throw new Error(`${name} ${recipe.label} failed: ${String(warm.firstError)}`);
        const cpu = cpuMeter(pids);
        const loop = await closedLoop(lanes, seconds * 1000, op);
        if (name === "assetd") assetdRequests += loop.ops + loop.errors;
        if (loop.errors) throw new Error(`${name} ${recipe.label}: ${loop.errors} errors, first: ${String(loop.firstError)}`);
        figures[name] = { ...loop, cpu: cpu() };
        ctx.log(`${recipe.label} ${name}: ${loop.perSecond.toFixed(1)} renders/s, p50 ${loop.p50.toFixed(0)} ms, ` +
          `p99 ${loop.p99.toFixed(0)} ms (${loop.ops} in ${loop.seconds.toFixed(1)} s, ${figures[name]!.cpu.toFixed(2)} cores)`);
      }
      const ceiling = figures["sharp in-process"]!;
      const a = figures.assetd!;
      const i = figures.ipx!;
      const ratio = a.perSecond / ceiling.perSecond;
      result.rows.push(
        { metric: `${recipe.label}: renders/s`, unit: "", assetd: a.perSecond, peer: ceiling.perSecond, peerName: "sharp in-process (ceiling)",
          ratio, target: "≥ 0.85×", pass: ratio >= 0.85 },
        { metric: `${recipe.label}: renders/s`, unit: "", assetd: a.perSecond, peer: i.perSecond, peerName: "ipx",
          ratio: a.perSecond / i.perSecond, target: `ipx ≈ 0.43× ceiling (here ${(i.perSecond / ceiling.perSecond).toFixed(2)}×)` },
      );
      perRecipe[recipe.label] = { assetdQuery: recipe.assetd(0), ipxPath: `/${recipe.ipx}/source.jpg`, ...figures };
    }
    const renders = (await server.metric("assetd_variant_renders_total")) - rendersBefore;
    result.rows.push({
      metric: "assetd renders per request (no cache hits)", unit: "", assetd: renders, peer: assetdRequests, peerName: "requests sent",
      ratio: renders / assetdRequests, target: "= 1", pass: renders === assetdRequests,
    });
    result.notes.push(
      `Source: ${basename(source.from)} upscaled to ${SOURCE_WIDTH}x${SOURCE_HEIGHT} (20 MP), quality-90 JPEG, ${(source.bytes / 1e6).toFixed(1)} MB.`,
      `${lanes} concurrent requests (2 × cores) for ${seconds} s per side and recipe, after a warm-up of ${lanes} operations. ` +
        "One closed-loop driver for all three sides (only the operation differs); operations still running at the deadline are " +
        "awaited and counted, so 100–500 ms renders are not cut off at a 1 s tick as with autocannon's duration mode.",
      `assetd: each request names a new recipe (\`h\` grows by 1 px with \`fit=inside\`, never binding: identical output and work to \`w\` alone), ` +
        `so every request renders (checked against assetd_variant_renders_total). Its defaults: ${availableParallelism()} renders at once ` +
        `(ASSETD_MAX_TRANSFORMS = cores), AVIF effort ${AVIF_EFFORT}, quality 80 (JPEG/WebP) / 50 (AVIF).`,
      `sharp in-process (the ceiling): sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips} as assetd configures it ` +
        "(operation cache off), same pipeline: load from the file path (JPEG shrink-on-load), autoOrient, resize, encode to a Buffer; " +
        `${lanes} operations in flight in one process, libuv threadpool 4.`,
      `ipx ${ipx.sharpVersion ? `(sharp ${ipx.sharpVersion} / libvips ${ipx.vipsVersion})` : ""}: stock createIPX + ipxFSStorage + createIPXNodeServer ` +
        "in its own process, URLs like `/w_300,f_webp/source.jpg`; it reads the whole file into a Buffer per request and uses sharp's " +
        "defaults (AVIF effort 4, which is more work than assetd's 3; JPEG quality 80, progressive).",
    );
    result.details = { ...result.details, lanes, seconds, source: { ...source }, recipes: perRecipe, renders, assetdRequests };
  },
};
