import { variantKey } from "../domain/content-address.js";
import { AppError } from "../domain/errors.js";
import { isOwnerView, type Caller } from "../domain/access.js";
import { hasCustomTransform, type Query } from "../domain/recipe.js";
import { servingRefusal } from "../domain/servability.js";
import {
  parseStoryboardQuery, storyboardCacheKey, storyboardQuery, storyboardRecipe, storyboardVtt, type StoryboardSpec,
} from "../domain/storyboard.js";
import { derivedContentKey, type TenantIsolation } from "../domain/tenancy.js";
import { BlobNotFoundError, type BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { CpuBudget } from "../ports/cpu-budget.js";
import type { ImageEngine, RenderLimits } from "../ports/image-engine.js";
import type { SingleFlight } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { RenderBudget } from "../ports/render-budget.js";
import type { AssetRow, Repos } from "../ports/repos.js";
import type { StoryboardSource } from "../ports/storyboard-source.js";
import type { AssetService } from "./assets.js";
import { blobSource } from "./blob-source.js";
import type { Access } from "./deliver.js";
import type { VariantCache } from "./variant-cache.js";
import { assertRecipeAllowed } from "./variant-recipe.js";

export interface StoryboardDeps {
  assets: Pick<AssetService, "findForDelivery">;
  repos: Repos;
  store: BlobStore;
  engine: Pick<ImageEngine, "render" | "processorVersion">;
  source: StoryboardSource;
  singleFlight: SingleFlight;
  cpu: CpuBudget;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  limits: RenderLimits;
  scanning: boolean;
  signedTransforms?: boolean;
  tenantIsolation?: TenantIsolation;
  renderBudget?: RenderBudget;
  variantCache: Pick<VariantCache, "stored">;
  maxRecipesPerAsset: number;
}

export interface StoryboardFile {
  asset: AssetRow;
  cacheKey: string;
  contentType: string;
  data: Buffer;
  cache: "HIT" | "MISS";
  renderMs: number;
}

/** JPEG quality of sprites: tiles are small previews. */
const SPRITE_QUALITY = 75;
const VTT_TYPE = "text/vtt; charset=utf-8";

/**
 * `storyboard.jpg` and `storyboard.vtt` of a video: access as for stills (read permission,
 * servability, signed transforms and the per-asset recipe cap for non-owners asking for
 * parameters), one render for both files (collapsed like any variant), both stored as
 * variants under content-derived keys, so they are cached, listed and evicted with the rest.
 */
export function createStoryboardService(deps: StoryboardDeps) {
  const { repos, store, engine, metrics, clock, logger } = deps;
  const pendingHits = new Map<string, { count: number; at: number }>();

  async function servable(caller: Caller, id: string, access: Access): Promise<AssetRow & { blobSha256: string }> {
    const asset = await deps.assets.findForDelivery(caller, id, { signed: access.signed === true });
    const refusal = servingRefusal(asset, "variant", { scanning: deps.scanning });
    if (refusal) throw refusal;
    if (!deps.source.handles(asset.contentType ?? "")) {
      throw new AppError("transform_unsupported", `storyboards are made of videos, not ${asset.contentType ?? "this content"}`, {
        contentType: asset.contentType,
      });
    }
    return asset as AssetRow & { blobSha256: string };
  }

  async function readCached(cacheKey: string): Promise<{ data: Buffer; contentType: string } | undefined> {
    const row = await repos.variants.get(cacheKey);
    if (!row) return undefined;
    try {
      return { data: await store.read(row.storageKey), contentType: row.contentType };
    } catch (error) {
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
  }

  async function save(cacheKey: string, blobSha256: string, recipe: string, contentType: string, data: Buffer): Promise<void> {
    const key = variantKey(cacheKey);
    await store.put(key, data);
    const now = clock.now();
    await repos.variants.put({ cacheKey, blobSha256, recipe, storageKey: key, contentType, size: data.length, createdAt: now, lastAccessAt: now, hits: 0 });
    deps.variantCache.stored(data.length);
  }

  /** Renders the sprite and writes its VTT; a no-op when another process has just done it. */
  async function render(asset: AssetRow & { blobSha256: string }, spec: StoryboardSpec, keys: { jpg: string; vtt: string }, client?: string) {
    const [jpg, vtt] = await Promise.all([readCached(keys.jpg), readCached(keys.vtt)]);
    if (jpg && vtt) return;
    const blob = await repos.blobs.get(asset.blobSha256);
    if (!blob) throw new AppError("internal", "the asset's content record is missing");
    const source = blobSource(store, blob.storageKey, asset.contentType ?? blob.sniffedType);
    const started = performance.now();
    const { sprite, layout } = await deps.cpu.run(async (slot) => {
      const made = await deps.source.sprite(source, spec, { maxPixels: deps.limits.maxInputPixels, maxOutputPixels: deps.limits.maxOutputPixels }, undefined, slot);
      const encoded = await engine.render({ read: async () => made.png, contentType: "image/png" }, { fmt: "jpeg", q: SPRITE_QUALITY }, deps.limits, slot);
      return { sprite: encoded, layout: made.layout };
    }, {});
    const seconds = (performance.now() - started) / 1000;
    metrics.variantRendered(seconds, "jpeg");
    if (client !== undefined) await deps.renderBudget?.charge(client, seconds);
    const query = storyboardQuery(spec);
    const text = storyboardVtt(layout, `storyboard.jpg${query ? `?${query}` : ""}`);
    await save(keys.jpg, blob.sha256, storyboardRecipe(spec, "jpg"), sprite.contentType, sprite.data);
    await save(keys.vtt, blob.sha256, storyboardRecipe(spec, "vtt"), VTT_TYPE, Buffer.from(text, "utf8"));
    logger.debug({ cacheKey: keys.jpg, frames: layout.frames, ms: Math.round(seconds * 1000) }, "storyboard rendered");
  }

  async function file(kind: "jpg" | "vtt", caller: Caller, id: string, query: Query, access: Access = {}): Promise<StoryboardFile> {
    const spec = parseStoryboardQuery(query);
    const asset = await servable(caller, id, access);
    // The default storyboard is like a preset; chosen parameters are a custom transform.
    if (deps.signedTransforms && !access.signed && !isOwnerView(caller, asset) && hasCustomTransform(query)) {
      throw new AppError("signature_required", "storyboard parameters need a signed URL for this asset");
    }
    const contentKey = derivedContentKey(asset.blobSha256, asset.owner, deps.tenantIsolation ?? "shared");
    const keys = {
      jpg: storyboardCacheKey(contentKey, spec, "jpg", engine.processorVersion),
      vtt: storyboardCacheKey(contentKey, spec, "vtt", engine.processorVersion),
    };
    const cacheKey = keys[kind];
    const hit = await readCached(cacheKey);
    if (hit) {
      metrics.variantHit();
      countHit(cacheKey);
      return { asset, cacheKey, ...hit, cache: "HIT", renderMs: 0 };
    }
    await assertRecipeAllowed(repos, deps.maxRecipesPerAsset, caller, asset, query, access.signed === true);
    metrics.variantMiss();
    const wait = access.client !== undefined && deps.renderBudget ? await deps.renderBudget.retryAfter(access.client) : 0;
    if (wait > 0) throw new AppError("rate_limited", "this client's render budget for the current minute is spent", { retryAfter: wait });
    const started = performance.now();
    // One flight per storyboard (keyed by the sprite): a VTT and a sprite asked together
    // render once. Like an image render it always finishes (and is stored) once started, so
    // a client that goes away cannot cancel what another client waits for.
    const { collapsed } = await deps.singleFlight.run(keys.jpg, () => render(asset, spec, keys, access.client));
    if (collapsed) metrics.variantCollapsed();
    const made = await readCached(cacheKey);
    if (!made) throw new AppError("internal", "the storyboard was rendered but could not be read back");
    return { asset, cacheKey, ...made, cache: "MISS", renderMs: performance.now() - started };
  }

  function countHit(cacheKey: string): void {
    const entry = pendingHits.get(cacheKey);
    const at = clock.now();
    if (entry) {
      entry.count++;
      entry.at = at;
    } else pendingHits.set(cacheKey, { count: 1, at });
  }

  /** Access statistics are batched, as for variants: a hit must not cost a database write. */
  async function flushHits(): Promise<void> {
    if (pendingHits.size === 0) return;
    const batch = new Map(pendingHits);
    pendingHits.clear();
    await repos.variants.recordHits(batch);
  }

  return {
    sprite: (caller: Caller, id: string, query: Query, access?: Access) => file("jpg", caller, id, query, access),
    vtt: (caller: Caller, id: string, query: Query, access?: Access) => file("vtt", caller, id, query, access),
    flushHits,
  };
}

export type StoryboardService = ReturnType<typeof createStoryboardService>;
