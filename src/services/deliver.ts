import type { Readable } from "node:stream";
import { variantKey } from "../domain/content-address.js";
import { AppError } from "../domain/errors.js";
import {
  negotiateFormat, parseTransform, variantCacheKey, withFormat, canonicalRecipe, hasCustomTransform, DEFAULT_PRESETS, type Presets, type Query, type Recipe,
} from "../domain/recipe.js";
import { servingRefusal, type Delivery } from "../domain/servability.js";
import type { ClientHints, HintName } from "../domain/client-hints.js";
import type { Access, OriginalResult, PendingVariant, VariantResult } from "./delivery-results.js";
import { isOwnerView, type Caller } from "../domain/access.js";
import { derivedContentKey, type TenantIsolation } from "../domain/tenancy.js";
import { BlobNotFoundError, type BlobStore, type ByteRange } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { CpuBudget } from "../ports/cpu-budget.js";
import type { FrameSource } from "../ports/frame-source.js";
import type { ImageEngine, RenderLimits } from "../ports/image-engine.js";
import type { SingleFlight } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { RenderBudget } from "../ports/render-budget.js";
import type { AssetRow, Repos } from "../ports/repos.js";
import type { AssetService } from "./assets.js";
import { blobSource } from "./blob-source.js";
import { ByteCache } from "./byte-cache.js";
import type { VariantCache } from "./variant-cache.js";
import type { DemandRecorder } from "./demand.js";
import type { VariantGraph } from "./variant-graph.js";
import { assertRecipeAllowed, normaliseRecipe } from "./variant-recipe.js";
import { createInFlight } from "./in-flight.js";
import type { RenderFailures } from "./render-failures.js";
import { enqueueRender, transformQuery, type Renderer } from "./render-jobs.js";
import type { JobQueue } from "../ports/job-queue.js";

/** Cached variants above this size are streamed from the store on a hit, never held in memory. */
export const STREAM_VARIANTS_ABOVE = 1024 * 1024;
import type { LocationPrivateOriginals } from "./location-private.js";
import type { DownloadLinks } from "../ports/download-links.js";

export interface DeliveryDeps {
  assets: AssetService;
  repos: Repos;
  store: BlobStore;
  engine: ImageEngine;
  /** Stills of what the image engine cannot read: video frames, PDF pages. */
  frames: readonly FrameSource[];
  singleFlight: SingleFlight;
  /** The process's CPU budget, shared with the engines: a render holds one slot throughout. */
  cpu: CpuBudget;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  limits: RenderLimits;
  autoAvif: boolean;
  /** Bytes of recently served variants kept in memory (0 disables). */
  memoryCacheBytes: number;
  /** With a virus scanner configured only scanned content (ready, or failed after the scan) is served. */
  scanning: boolean;
  /** Originals without location, for everyone but the owner and admins. */
  locationPrivate: LocationPrivateOriginals;
  /** Presigned downloads for originals served as stored; undefined: bytes go through this service. */
  redirect?: { links: DownloadLinks; ttlSeconds: number };
  /** ASSETD_SIGNED_TRANSFORMS: non-owners need a signed URL for anything but a preset. */
  signedTransforms?: boolean;
  /** ASSETD_PRESETS; default thumb, small, medium, large. */
  presets?: Presets;
  /** ASSETD_TENANT_ISOLATION: strict keys variants per owner. */
  tenantIsolation?: TenantIsolation;
  /** ASSETD_RENDER_BUDGET: render seconds per client per minute; undefined: unlimited. */
  renderBudget?: RenderBudget;
  /** The stored-variant budget: told of each variant stored; drops evicted ones from memory. */
  variantCache: Pick<VariantCache, "stored" | "onEvicted">;
  /** ASSETD_MAX_RECIPES_PER_ASSET. */
  maxRecipesPerAsset: number;
  /** Counts each served request's recipe per owner and asset kind (what prewarm predicts from). */
  demand?: Pick<DemandRecorder, "record" | "flush">;
  /** The transformation graph (ASSETD_INTERMEDIATES); undefined: every variant from the original. */
  graph?: VariantGraph;
  /** Render jobs (`render-variant`): eager variants, and every miss with ASSETD_ASYNC_VARIANTS. */
  jobs?: {
    queue: Pick<JobQueue, "enqueue">;
    failures: RenderFailures;
    /** ASSETD_ASYNC_VARIANTS: a miss queues its render and answers 202. */
    onMiss: boolean;
    /** What the 202 tells a client to wait before asking again. */
    retryAfterSeconds: number;
  };
}

export type { Access, OriginalResult, PendingVariant, VariantResult } from "./delivery-results.js";

/**
 * Serving originals and variants. A variant is found by its cache key; a miss renders it
 * once (concurrent identical misses collapse into one render, renders are bounded), stores
 * it under its content-derived key and records a row, so the next request is a hit.
 */
export function createDeliveryService(deps: DeliveryDeps) {
  const presets = deps.presets ?? DEFAULT_PRESETS;
  const { assets, repos, store, engine, singleFlight, cpu, metrics, clock, logger } = deps;
  // The ladder policy is part of the processor version: turning the graph on or changing it changes every key.
  const processorVersion = deps.graph?.processorVersion ?? engine.processorVersion;
  const pendingHits = new Map<string, { count: number; at: number }>();
  // Only variants small enough to be served from memory enter it; larger ones always stream.
  const memory = new ByteCache<{ data: Buffer; contentType: string }>(
    deps.memoryCacheBytes, Math.min(STREAM_VARIANTS_ABOVE, Math.max(1, Math.floor(deps.memoryCacheBytes / 16))),
  );
  deps.variantCache.onEvicted((cacheKeys) => {
    for (const key of cacheKeys) memory.delete(key);
  });

  async function servable(caller: Caller, id: string, what: Delivery, access: Access): Promise<AssetRow & { blobSha256: string }> {
    const asset = await assets.findForDelivery(caller, id, { signed: access.signed === true });
    const refusal = servingRefusal(asset, what, { scanning: deps.scanning });
    if (refusal) throw refusal;
    return asset as AssetRow & { blobSha256: string };
  }

  async function original(caller: Caller, id: string, access: Access = {}): Promise<OriginalResult> {
    const asset = await servable(caller, id, "original", access);
    const blob = await repos.blobs.get(asset.blobSha256);
    if (!blob) throw new AppError("internal", "the asset's content record is missing");
    const contentType = asset.contentType ?? blob.sniffedType;
    const { redirect } = deps;
    const link = redirect
      ? (disposition?: string) => redirect.links.link(blob.storageKey, { contentType, ...(disposition ? { disposition } : {}) }, redirect.ttlSeconds)
      : undefined;
    // A signed URL is anyone's: only the owner's and admins' own requests see location.
    if (isOwnerView(caller, asset) && !access.signed) {
      return { asset, etag: blob.sha256, size: blob.size, contentType, open: (range) => store.get(blob.storageKey, range), ...(link ? { link } : {}) };
    }
    const served = await deps.locationPrivate.serve(blob, contentType);
    // Only bytes exactly as stored may come from the store; a scrubbed copy comes from here.
    const asStored = served.etag === blob.sha256;
    return { asset, contentType, ...served, ...(link && asStored ? { link } : {}) };
  }

  /** Validates the query and fixes the recipe before touching any data (400s come first). `hints`: ASSETD_CLIENT_HINTS. */
  function plan(query: Query, accept: string | undefined, hints?: ClientHints): { recipe: Recipe; negotiated: boolean; hints?: HintName[] } {
    const request = parseTransform(query, presets, hints);
    const recipe = withFormat(request, negotiateFormat(accept, { avif: deps.autoAvif }));
    return { recipe, negotiated: request.autoFormat, ...(request.hints ? { hints: request.hints } : {}) };
  }

  const watch = createInFlight();

  async function variant(
    caller: Caller, id: string, query: Query, accept: string | undefined, signal?: AbortSignal, access: Access = {}, hints?: ClientHints,
  ): Promise<VariantResult | PendingVariant> {
    const planned = plan(query, accept, hints);
    const { negotiated } = planned;
    const vary = planned.hints ? { hints: planned.hints } : {};
    const asset = await servable(caller, id, "variant", access);
    if (deps.signedTransforms && !access.signed && !isOwnerView(caller, asset) && hasCustomTransform(query)) {
      throw new AppError("signature_required", "transforms other than presets need a signed URL for this asset");
    }
    const { recipe, cacheKey, frames } = resolve(asset, planned.recipe);
    // Demand is the recipe as asked (before clamping to this source), so it predicts for other sizes too.
    const demanded = () => deps.demand?.record(asset.owner, asset.kind, canonicalRecipe(planned.recipe));
    const hit = await readCached(cacheKey);
    if (hit) {
      demanded();
      metrics.variantHit();
      countHit(cacheKey);
      return { asset, cacheKey, ...hit, negotiated, ...vary, cache: "HIT", renderMs: 0 };
    }
    // A render job that failed for good: its error, not 202 for ever.
    const failed = deps.jobs?.onMiss ? await deps.jobs.failures.find(cacheKey) : undefined;
    if (failed) throw failed;
    await assertRecipeAllowed(repos, deps.maxRecipesPerAsset, caller, asset, query, access.signed === true);
    demanded();

    metrics.variantMiss();
    // Hits are free; a client whose renders used up this minute's budget waits for the next.
    const wait = access.client !== undefined && deps.renderBudget ? await deps.renderBudget.retryAfter(access.client) : 0;
    if (wait > 0) {
      throw new AppError("rate_limited", "this client's render budget for the current minute is spent", { retryAfter: wait });
    }
    if (deps.jobs?.onMiss) {
      await enqueueRender(deps.jobs.queue, {
        assetId: asset.id, query: transformQuery(query), accept, client: access.client, hints: planned.hints ? hints : undefined,
      }, cacheKey);
      return { kind: "pending", asset, cacheKey, retryAfter: deps.jobs.retryAfterSeconds, ...vary };
    }
    const started = performance.now();
    const watched = watch(cacheKey, signal);
    let flight;
    try {
      flight = await produce(asset, recipe, cacheKey, frames, watched.signal, access.client);
    } finally {
      watched.done();
    }
    return {
      asset, cacheKey, ...flight, negotiated, ...vary, cache: "MISS",
      renderMs: performance.now() - started,
    };
  }

  /** What the content allows of a planned recipe; the recipe as rendered and its cache key. */
  function resolve(asset: AssetRow & { blobSha256: string }, planned: Recipe): { recipe: Recipe; cacheKey: string; frames: FrameSource | undefined } {
    const contentType = asset.contentType ?? "";
    const frames = engine.canRender(contentType) ? undefined : deps.frames.find((f) => f.handles(contentType));
    if (!engine.canRender(contentType) && !frames) {
      throw new AppError("transform_unsupported", `transforms are not available for ${contentType}`, { contentType });
    }
    if (planned.t !== undefined && !contentType.startsWith("video/")) {
      throw new AppError("invalid_parameter", "t applies to videos only", { parameter: "t" });
    }
    if (planned.page !== undefined && contentType.startsWith("video/")) {
      throw new AppError("invalid_parameter", "page applies to documents and multi-page images", { parameter: "page" });
    }
    const recipe = normaliseRecipe(planned, asset, frames === undefined);
    const cacheKey = variantCacheKey(derivedContentKey(asset.blobSha256, asset.owner, deps.tenantIsolation ?? "shared"), recipe, processorVersion);
    return { recipe, cacheKey, frames };
  }

  /**
   * The one render step of requests and jobs alike: once for concurrent misses of a key
   * (cluster-wide with Redis), stored and recorded, so the next request is a hit.
   */
  async function produce(
    asset: AssetRow & { blobSha256: string }, recipe: Recipe, cacheKey: string, frames: FrameSource | undefined, signal?: AbortSignal, client?: string,
  ): Promise<Cached> {
    const { value, collapsed } = await singleFlight.run(cacheKey, () => render(asset, recipe, cacheKey, frames, signal, client));
    if (collapsed) metrics.variantCollapsed();
    return value;
  }

  /** `quality`: what a `max_bytes` search chose, known to the requests its render served. */
  type Cached = { contentType: string; size: number; quality?: number; open(range?: ByteRange): Promise<Readable | Buffer> | Buffer };

  function inMemory(found: { contentType: string; data: Buffer }): Cached {
    const { data } = found;
    return { contentType: found.contentType, size: data.length, open: (range) => (range ? data.subarray(range.start, range.end + 1) : data) };
  }

  async function readCached(cacheKey: string): Promise<Cached | undefined> {
    const remembered = memory.get(cacheKey);
    if (remembered) return inMemory(remembered);
    const row = await repos.variants.get(cacheKey);
    if (!row) return undefined;
    try {
      // A large variant is streamed (with ranges) like an original: N slow readers of a
      // 30 MB variant must not hold N copies of it in memory.
      if (row.size > STREAM_VARIANTS_ABOVE) {
        if (!(await store.head(row.storageKey))) return undefined;
        return { contentType: row.contentType, size: row.size, open: (range) => store.get(row.storageKey, range) };
      }
      const found = { contentType: row.contentType, data: await store.read(row.storageKey) };
      memory.set(cacheKey, found);
      return inMemory(found);
    } catch (error) {
      // Evicted or lost bytes: the row is stale, so render again.
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
  }

  async function render(
    asset: AssetRow & { blobSha256: string }, recipe: Recipe, cacheKey: string, frames?: FrameSource, signal?: AbortSignal, client?: string,
  ) {
    // Another process (or an earlier flight) may have finished it meanwhile.
    const cached = await readCached(cacheKey);
    if (cached) return cached;
    const blob = await repos.blobs.get(asset.blobSha256);
    if (!blob) throw new AppError("internal", "the asset's content record is missing");
    const source = blobSource(store, blob.storageKey, asset.contentType ?? blob.sniffedType);
    // The transformation graph: a large image's variant may render from a cached rung (which it renders first when missing).
    const derived = frames || !deps.graph ? undefined : await deps.graph.derive(asset, recipe, source);
    const started = performance.now();
    // One slot for the whole render, taken before any work and handed to the engines, so a
    // full queue turns the request away (503) instead of starting what it cannot finish. A
    // still stops waiting (and ffmpeg or pdfjs stop) when its clients have gone; an image
    // render always finishes, and its variant is stored for the next request.
    const output = await cpu.run(async (slot) => {
      if (!frames) return derived ? engine.render(derived.source, derived.recipe, deps.limits, slot) : engine.render(source, recipe, deps.limits, slot);
      // A video frame or PDF page becomes a PNG still, then goes through the image recipe;
      // without `fmt` a still is delivered as JPEG.
      // ffmpeg and pdfjs stop when every client waiting for this still has gone.
      const still = await frames.frame(source, {
        // `crop` counts the still's own pixels: rendered at its natural size, not for the width asked.
        t: recipe.t, page: recipe.page, targetWidth: recipe.crop === undefined ? recipe.w : undefined, maxPixels: deps.limits.maxInputPixels,
      }, signal, slot);
      const { t: _t, page: _page, ...imageRecipe } = recipe;
      return engine.render({ read: async () => still, contentType: "image/png" },
        { ...imageRecipe, fmt: imageRecipe.fmt ?? "jpeg" }, deps.limits, slot);
    }, frames ? { signal } : {});
    const seconds = (performance.now() - started) / 1000;
    metrics.variantRendered(seconds, output.format, derived ? "intermediate" : "original");
    if (client !== undefined) await deps.renderBudget?.charge(client, seconds + (derived?.rungSeconds ?? 0));
    const key = variantKey(cacheKey);
    await store.put(key, output.data);
    const now = clock.now();
    await repos.variants.put({
      cacheKey, blobSha256: blob.sha256, recipe: canonicalRecipe(recipe), storageKey: key,
      contentType: output.contentType, size: output.data.length, createdAt: now, lastAccessAt: now, hits: 0,
      parent: derived?.parent ?? null,
    });
    deps.variantCache.stored(output.data.length);
    logger.debug({ cacheKey, recipe: canonicalRecipe(recipe), ms: Math.round(performance.now() - started) }, "variant rendered");
    const rendered = { data: output.data, contentType: output.contentType };
    memory.set(cacheKey, rendered);
    return { ...inMemory(rendered), ...(output.quality !== undefined ? { quality: output.quality } : {}) };
  }

  /** Access statistics are batched: a hit must not cost a database write. */
  function countHit(cacheKey: string): void {
    const entry = pendingHits.get(cacheKey);
    const at = clock.now();
    if (entry) {
      entry.count++;
      entry.at = at;
    } else pendingHits.set(cacheKey, { count: 1, at });
  }

  /** Writes the batched access statistics: hits (and prewarmed variants' first requests), request counts per recipe. */
  async function flushHits(): Promise<void> {
    if (pendingHits.size > 0) {
      const batch = new Map(pendingHits);
      pendingHits.clear();
      await repos.variants.recordHits(batch);
      // A prewarmed variant's first request after its render: the prediction paid.
      const requested = await repos.prewarm.markRequested([...batch.keys()], clock.now());
      if (requested > 0) metrics.prewarmRequested(requested);
    }
    await deps.demand?.flush();
  }

  /** Whether some engine can make stills of this content (the manifest then lists preset URLs). */
  function canTransform(contentType: string): boolean {
    return contentType !== "" && (engine.canRender(contentType) || deps.frames.some((f) => f.handles(contentType)));
  }

  /** What render jobs share with requests (services/render-jobs.ts). */
  const renderer: Renderer = { plan, resolve, cached: readCached, produce };

  return { original, variant, plan, renderer, flushHits, canTransform, presetNames: Object.keys(presets) };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
