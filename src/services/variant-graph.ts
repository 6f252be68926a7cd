import { variantKey } from "../domain/content-address.js";
import {
  chooseDerivation, factsFromMeta, graphProcessorVersion, rungCacheKey, rungRecipe, type LadderPolicy, type SourceFacts,
} from "../domain/ladder.js";
import type { Recipe } from "../domain/recipe.js";
import { derivedContentKey, type TenantIsolation } from "../domain/tenancy.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Clock } from "../ports/clock.js";
import type { CpuBudget } from "../ports/cpu-budget.js";
import type { ImageEngine, ImageSource, RenderLimits } from "../ports/image-engine.js";
import type { SingleFlight } from "../ports/locks.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { AssetRow, Repos } from "../ports/repos.js";
import { blobSource } from "./blob-source.js";
import type { VariantCache } from "./variant-cache.js";

export interface VariantGraphDeps {
  repos: Repos;
  store: BlobStore;
  engine: ImageEngine;
  singleFlight: SingleFlight;
  cpu: CpuBudget;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  limits: RenderLimits;
  policy: LadderPolicy;
  tenantIsolation?: TenantIsolation;
  variantCache: Pick<VariantCache, "stored">;
}

/** Where a variant renders from when the graph derives it. */
export interface Derived {
  source: ImageSource;
  /** The recipe to apply to the rung (same output as the requested one from the original). */
  recipe: Recipe;
  /** The rung's cache key: the variant's `parent`. */
  parent: string;
  /** Seconds spent rendering the rung for this request (0 when it was cached). */
  rungSeconds: number;
}

/**
 * The edges of the transformation graph (domain/ladder.ts): a variant of a large image is
 * rendered from a cached rung of the intermediate ladder when the rule says the result is
 * the same image. A missing rung is rendered first, once for concurrent requests
 * (cluster-wide with Redis), from the original, and stored as a variant of its own.
 */
export function createVariantGraph(deps: VariantGraphDeps) {
  const { repos, store, engine, singleFlight, cpu, metrics, clock, logger, policy } = deps;
  const processorVersion = graphProcessorVersion(engine.processorVersion, policy);

  /** Stored facts when extraction has run, else the header's: the two agree, so the choice does not depend on timing. */
  async function factsOf(asset: AssetRow, original: ImageSource): Promise<SourceFacts | undefined> {
    const known = factsFromMeta(asset.meta);
    if (known) return known;
    try {
      return await engine.inspect(original);
    } catch {
      // The render from the original reports what is wrong with the source.
      return undefined;
    }
  }

  async function derive(asset: AssetRow & { blobSha256: string }, recipe: Recipe, original: ImageSource): Promise<Derived | undefined> {
    const facts = await factsOf(asset, original);
    const derivation = facts && chooseDerivation(recipe, facts, policy);
    if (!derivation) return undefined;
    const contentKey = derivedContentKey(asset.blobSha256, asset.owner, deps.tenantIsolation ?? "shared");
    const parent = rungCacheKey(contentKey, derivation.rung, processorVersion);
    const cached = await storedRung(parent);
    if (cached) return { source: cached, recipe: derivation.recipe, parent, rungSeconds: 0 };
    const { value } = await singleFlight.run(parent, () => renderRung(asset.blobSha256, parent, derivation.rung, original));
    return { source: value.source, recipe: derivation.recipe, parent, rungSeconds: value.seconds };
  }

  async function storedRung(cacheKey: string): Promise<ImageSource | undefined> {
    const row = await repos.variants.get(cacheKey);
    // A row whose bytes were evicted or lost is stale: the rung renders again.
    if (!row || !(await store.head(row.storageKey))) return undefined;
    return { ...blobSource(store, row.storageKey, row.contentType), rung: true };
  }

  async function renderRung(blobSha256: string, cacheKey: string, rung: number, original: ImageSource) {
    // Another process (or an earlier flight) may have finished it meanwhile.
    const again = await storedRung(cacheKey);
    if (again) return { source: again, seconds: 0 };
    const started = performance.now();
    const output = await cpu.run((slot) => engine.renderIntermediate(original, rung, deps.limits, slot));
    const seconds = (performance.now() - started) / 1000;
    metrics.intermediateRendered(seconds);
    const key = variantKey(cacheKey);
    await store.put(key, output.data);
    const now = clock.now();
    await repos.variants.put({
      cacheKey, blobSha256, recipe: rungRecipe(rung), storageKey: key, contentType: output.contentType,
      size: output.data.length, createdAt: now, lastAccessAt: now, hits: 0, parent: null,
    });
    deps.variantCache.stored(output.data.length);
    logger.debug({ cacheKey, rung, ms: Math.round(seconds * 1000) }, "intermediate rendered");
    const data = output.data;
    // The next render reads the bytes just made, not the store.
    return { source: { read: async () => data, contentType: output.contentType, rung: true } satisfies ImageSource, seconds };
  }

  return { processorVersion, derive };
}

export type VariantGraph = ReturnType<typeof createVariantGraph>;
