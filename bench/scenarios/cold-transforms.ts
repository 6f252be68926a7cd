import { Agent } from "node:http";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import sharp, { type Sharp } from "sharp";
import { bigJpeg, FIXTURES, SOURCE_HEIGHT, SOURCE_WIDTH } from "../lib/fixtures.js";
import { brief, closedLoop, httpRequest, mergeLoops, type LoopResult } from "../lib/http.js";
import { startIpx } from "../lib/ipx.js";
import type { AssetdServer } from "../lib/assetd.js";
import { adminOf, launchAssetd, UNLIMITED } from "../lib/kit.js";
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
export function httpOp(agent: Agent, url: (i: number) => string, expectMiss: boolean, headers?: Record<string, string>): (i: number) => Promise<void> {
  return async (i) => {
    const res = await httpRequest(url(i), { agent, ...(headers ? { headers } : {}) });
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
    const rounds = ctx.mode === "quick" ? 1 : 4;
    const lanes = availableParallelism() * 2;
    const source = await bigJpeg(ctx.outDir);
    ctx.log(`source ${basename(source.path)} (${(source.bytes / 1e6).toFixed(1)} MB, from ${basename(source.from)})`);

    const server = await launchAssetd(ctx, result, UNLIMITED);
    const asset = await server.upload(await readFile(source.path), { contentType: "image/jpeg", filename: "source.jpg", public: true, waitSeconds: 30 });
    const ipxDir = join(ctx.tmpDir, "ipx");
    await mkdir(ipxDir, { recursive: true });
    await copyFile(source.path, join(ipxDir, "source.jpg"));
    const ipx = await startIpx(ipxDir);
    ctx.defer(() => ipx.stop());
    const agent = new Agent({ keepAlive: true, maxSockets: lanes });
    ctx.defer(() => agent.destroy());

    const perRecipe: Record<string, unknown> = {};
    const timings: string[] = [];
    let assetdRequests = 0;
    const rendersBefore = await server.metric("assetd_variant_renders_total");
    for (const recipe of RECIPES) {
      // assetd's request counter runs across warm-up and every round: no recipe repeats.
      let sent = 0;
      const assetdOp = httpOp(agent, () => `${server.url}/a/${asset.id}?${recipe.assetd(sent++)}`, true, adminOf(server));
      const sides: Array<{ name: string; op: (i: number) => Promise<void>; pids: () => number[]; runs: LoopResult[]; cpu: number[] }> = [
        { name: "sharp in-process", op: sharpOp(source.path, recipe), pids: () => [process.pid], runs: [], cpu: [] },
        { name: "assetd", op: assetdOp, pids: () => [server.pid], runs: [], cpu: [] },
        { name: "ipx", op: httpOp(agent, () => `${ipx.url}/${recipe.ipx}/source.jpg`, false), pids: () => [ipx.pid], runs: [], cpu: [] },
      ];
      // A warm-up of one op per lane and side (not counted), then interleaved rounds, so a
      // slow stretch of this shared machine hits all three sides alike.
      for (const side of sides) {
        const warm = await closedLoop(lanes, 0, side.op, lanes);
        if (warm.errors) throw new Error(`${side.name} ${recipe.label} failed: ${String(warm.firstError)}`);
      }
      const timing = await serverTiming(server);
      for (let round = 0; round < rounds; round++) {
        for (const side of sides) {
          const cpu = cpuMeter(side.pids);
          const loop = await closedLoop(lanes, (seconds / rounds) * 1000, side.op);
          side.cpu.push(cpu() * loop.seconds);
          if (loop.errors) throw new Error(`${side.name} ${recipe.label}: ${loop.errors} errors, first: ${String(loop.firstError)}`);
          side.runs.push(loop);
        }
      }
      assetdRequests += sent;
      const inServer = await timing();
      const figures: Record<string, LoopResult & { cores: number }> = {};
      for (const side of sides) {
        const merged = mergeLoops(side.runs);
        figures[side.name] = { ...merged, cores: side.cpu.reduce((a, b) => a + b, 0) / merged.seconds };
        ctx.log(`${recipe.label} ${side.name}: ${merged.perSecond.toFixed(1)} renders/s, p50 ${merged.p50.toFixed(0)} ms, ` +
          `p99 ${merged.p99.toFixed(0)} ms (${merged.ops} in ${merged.seconds.toFixed(1)} s, ${figures[side.name]!.cores.toFixed(2)} cores; ` +
          `per round ${side.runs.map((r) => r.perSecond.toFixed(1)).join(" / ")})`);
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
      perRecipe[recipe.label] = {
        assetdQuery: recipe.assetd(0), ipxPath: `/${recipe.ipx}/source.jpg`,
        ...Object.fromEntries(Object.entries(figures).map(([k, f]) => [k, { ...brief(f), perRound: sides.find((x) => x.name === k)!.runs.map((r) => r.perSecond) }])),
        assetdServerTiming: inServer,
      };
      ctx.log(`${recipe.label} assetd, per request: ${inServer.requestMs.toFixed(0)} ms in the server, of which ` +
        `${inServer.renderMs.toFixed(0)} ms waiting for a render slot and rendering, ${(inServer.requestMs - inServer.renderMs).toFixed(0)} ms the rest ` +
        "(lookups, storing the variant, its row, the response)");
      timings.push(`${recipe.label}: ${inServer.requestMs.toFixed(0)} ms per request in the server, ${inServer.renderMs.toFixed(0)} ms of it queued for or in a render`);
    }
    const heic = await heicRenders(server, agent, lanes, seconds, ctx.log);
    result.rows.push(...heic.rows);
    result.notes.push(heic.note);
    const renders = (await server.metric("assetd_variant_renders_total")) - rendersBefore - heic.requests;
    result.rows.push({
      metric: "assetd renders per request (no cache hits)", unit: "", assetd: renders, peer: assetdRequests, peerName: "requests sent",
      ratio: renders / assetdRequests, target: "= 1", pass: renders === assetdRequests,
    });
    result.notes.push(
      `Source: ${basename(source.from)} upscaled to ${SOURCE_WIDTH}x${SOURCE_HEIGHT} (20 MP), quality-90 JPEG, ${(source.bytes / 1e6).toFixed(1)} MB.`,
      `${lanes} concurrent requests (2 × cores) for ${seconds} s per side and recipe, in ${rounds} interleaved round(s) ` +
        `(ceiling, assetd, ipx, ceiling, ...), after a warm-up of ${lanes} operations per side. ` +
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
    result.notes.push(`Where assetd's time goes, from its own /metrics over the measured requests ` +
      `(assetd_http_request_duration_seconds for GET /a/:id, assetd_variant_render_seconds = render-slot wait + render): ${timings.join("; ")}.`);
    result.details = { ...result.details, lanes, seconds, rounds, source: { ...source }, recipes: perRecipe, renders, assetdRequests, heic: heic.details };
  },
};

const HEIC_FIXTURE = "formats/olympus-darkesthour-1024x640.heic";

/**
 * What HEIC costs over JPEG: the same 1 MP picture uploaded as the HEIC fixture and as a
 * quality-90 JPEG made from its pixels, each rendered cold (distinct recipes) to JPEG from w=300 up.
 * The difference is libheif's WASM decode on a worker thread.
 */
async function heicRenders(server: AssetdServer, agent: Agent, lanes: number, seconds: number, log: (line: string) => void) {
  const heicBytes = await readFile(join(FIXTURES, HEIC_FIXTURE));
  const heicAsset = await server.upload(heicBytes, { contentType: "image/heic", filename: "photo.heic", public: true, waitSeconds: 30 });
  const first = await httpRequest(`${server.url}/a/${heicAsset.id}?fmt=png`, { agent, headers: adminOf(server) });
  if (first.status !== 200) throw new Error(`HEIC render -> ${first.status} ${first.body.toString().slice(0, 200)}`);
  const jpegAsset = await server.upload(await sharp(first.body).jpeg({ quality: 90 }).toBuffer(),
    { contentType: "image/jpeg", filename: "photo.jpg", public: true, waitSeconds: 30 });
  const figures: Record<string, LoopResult> = {};
  let requests = 1;
  for (const [name, id] of [["HEIC", heicAsset.id], ["JPEG", jpegAsset.id]] as const) {
    let sent = 0;
    // A 1 MP source clamps any h beyond its own, so here the width grows by 1 px a request
    // (the same sequence for both sides) to keep every recipe distinct.
    const op = httpOp(agent, () => `${server.url}/a/${id}?w=${300 + sent++}&fmt=jpeg`, true, adminOf(server));
    const warm = await closedLoop(lanes, 0, op, lanes);
    if (warm.errors) throw new Error(`HEIC/JPEG ${name} failed: ${String(warm.firstError)}`);
    figures[name] = await closedLoop(lanes, seconds * 1000, op);
    if (figures[name]!.errors) throw new Error(`HEIC/JPEG ${name}: ${figures[name]!.errors} errors, first: ${String(figures[name]!.firstError)}`);
    requests += sent;
    const f = figures[name]!;
    log(`1 MP ${name} -> w=300 jpeg: ${f.perSecond.toFixed(1)} renders/s, p50 ${f.p50.toFixed(0)} ms, p99 ${f.p99.toFixed(0)} ms (${f.ops} ops)`);
  }
  const h = figures.HEIC!;
  const j = figures.JPEG!;
  return {
    requests,
    rows: [
      { metric: "1 MP HEIC w=300 jpeg: renders/s", unit: "", assetd: h.perSecond, peer: j.perSecond, peerName: "same picture as JPEG", ratio: h.perSecond / j.perSecond, target: "informative" },
      { metric: "1 MP HEIC w=300 jpeg: p50", unit: "ms", assetd: h.p50, peer: j.p50, peerName: "same picture as JPEG", ratio: h.p50 / j.p50, target: "informative" },
    ],
    note: `HEIC: ${HEIC_FIXTURE} (1024x640, ${heicBytes.length} B) and a quality-90 JPEG of its pixels, each rendered cold to JPEG (w=300, then 1 px wider per request) by ` +
      `${lanes} concurrent requests for ${seconds} s: HEIC ${h.perSecond.toFixed(1)} renders/s (p50 ${h.p50.toFixed(0)} ms), ` +
      `JPEG ${j.perSecond.toFixed(1)} renders/s (p50 ${j.p50.toFixed(0)} ms). The difference is libheif's WASM decode on a worker thread ` +
      "(no shrink-on-load: every pixel is decoded).",
    details: { heic: brief(h), jpeg: brief(j) },
  };
}

/**
 * Mean time a variant request spent in the server, and in the render call (slot wait +
 * render), over the requests made between this call and the returned function's call.
 */
async function serverTiming(server: AssetdServer): Promise<() => Promise<{ requests: number; requestMs: number; renderMs: number }>> {
  const read = async () => ({
    httpSum: await server.metric("assetd_http_request_duration_seconds_sum", 'route="/a/:id"'),
    httpCount: await server.metric("assetd_http_request_duration_seconds_count", 'route="/a/:id"'),
    renderSum: await server.metric("assetd_variant_render_seconds_sum"),
    renderCount: await server.metric("assetd_variant_render_seconds_count"),
  });
  const before = await read();
  return async () => {
    const after = await read();
    const requests = after.httpCount - before.httpCount;
    const renders = after.renderCount - before.renderCount;
    return {
      requests,
      requestMs: requests ? ((after.httpSum - before.httpSum) / requests) * 1000 : NaN,
      renderMs: renders ? ((after.renderSum - before.renderSum) / renders) * 1000 : NaN,
    };
  };
}
