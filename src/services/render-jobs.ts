import type { ClientHints } from "../domain/client-hints.js";
import type { Query, Recipe } from "../domain/recipe.js";
import { canonicalRecipe, DELIVERY_PARAMS } from "../domain/recipe.js";
import { servingRefusal } from "../domain/servability.js";
import type { ByteRange } from "../ports/blob-store.js";
import type { CpuBudget } from "../ports/cpu-budget.js";
import type { PrewarmedVariant } from "../ports/prewarm.js";
import type { FrameSource } from "../ports/frame-source.js";
import { PermanentJobError, type JobPayloads, type JobQueue } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import type { AssetRow, Repos } from "../ports/repos.js";
import { isPermanentRenderFailure, type RenderFailures } from "./render-failures.js";

/** Seconds a 202 for a queued variant tells the client to wait: a typical image render takes well under one. */
export const RENDER_RETRY_AFTER_SECONDS = 1;

type Servable = AssetRow & { blobSha256: string };

/** The steps of the delivery service (services/deliver.ts) a render job goes through, as a request does. */
export interface Renderer {
  plan(query: Query, accept: string | undefined, hints?: ClientHints): { recipe: Recipe };
  resolve(asset: Servable, planned: Recipe): { recipe: Recipe; cacheKey: string; frames: FrameSource | undefined };
  cached(cacheKey: string): Promise<{ size: number; open(range?: ByteRange): unknown } | undefined>;
  produce(asset: Servable, recipe: Recipe, cacheKey: string, frames: FrameSource | undefined, signal?: AbortSignal, client?: string): Promise<unknown>;
}

export interface RenderJobDeps {
  renderer: Renderer;
  repos: Pick<Repos, "assets" | "variants">;
  queue: Pick<JobQueue, "enqueue">;
  failures: RenderFailures;
  /** With a virus scanner configured only scanned content is rendered. */
  scanning: boolean;
  logger: Logger;
  /**
   * Renders queued by prewarm: run within `gate` (ASSETD_PREWARM_CPU_SHARE of the render
   * slots), and each variant they store is recorded as prewarmed.
   */
  prewarm?: { gate: Pick<CpuBudget, "run">; rendered(variant: Omit<PrewarmedVariant, "at">): Promise<void> };
}

/** Queues the render of one variant, once per cache key while it waits or runs. */
export async function enqueueRender(
  queue: Pick<JobQueue, "enqueue">,
  job: {
    assetId: string; query: string; accept?: string | undefined; client?: string | undefined; prewarm?: boolean; hints?: ClientHints | undefined;
  }, cacheKey: string,
): Promise<void> {
  await queue.enqueue("render-variant", {
    assetId: job.assetId, query: job.query, ...(job.hints !== undefined ? { hints: { ...job.hints } } : {}),
    ...(job.accept !== undefined ? { accept: job.accept } : {}), ...(job.client !== undefined ? { client: job.client } : {}),
    ...(job.prewarm ? { prewarm: true as const } : {}),
  }, { key: cacheKey });
}

/** The transform parameters of a delivery query as a query string (what a render job is given). */
export function transformQuery(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (DELIVERY_PARAMS.has(key) || typeof value !== "string") continue;
    params.append(key, value);
  }
  return params.toString();
}

const parseQuery = (query: string): Query => Object.fromEntries(new URLSearchParams(query));

/**
 * Variants rendered by jobs: misses under ASSETD_ASYNC_VARIANTS and the eager variants an
 * upload named. A job renders exactly as a request would (same plan, same cache key, the
 * same single flight), so its bytes are the synchronous path's.
 */
export function createRenderJobs(deps: RenderJobDeps) {
  const { renderer, repos, logger } = deps;

  async function servableAsset(assetId: string): Promise<Servable | undefined> {
    const asset = await repos.assets.get(assetId);
    // Deleted, failed or otherwise not servable meanwhile: nothing to render.
    if (!asset?.blobSha256 || servingRefusal(asset, "variant", { scanning: deps.scanning })) return undefined;
    return asset as Servable;
  }

  return {
    /**
     * The `render-variant` job. A permanent failure (services/render-failures.ts) is kept
     * for the cache key, so requests answer it, and dead-letters the job at once; any
     * other failure is retried by the queue and dead-lettered after its last attempt.
     */
    async job(payload: JobPayloads["render-variant"], signal?: AbortSignal): Promise<void> {
      const asset = await servableAsset(payload.assetId);
      if (!asset) return;
      let cacheKey: string | undefined;
      try {
        const resolved = renderer.resolve(asset, renderer.plan(parseQuery(payload.query), payload.accept, payload.hints).recipe);
        cacheKey = resolved.cacheKey;
        if (await renderer.cached(cacheKey)) return;
        const key = cacheKey;
        const render = () => renderer.produce(asset, resolved.recipe, key, resolved.frames, signal, payload.client);
        if (payload.prewarm && deps.prewarm) {
          // A guess renders only within its share of the slots: the rest stay free for requests.
          await deps.prewarm.gate.run(render, { patient: true, ...(signal ? { signal } : {}) });
          await deps.prewarm.rendered({ cacheKey: key, assetId: asset.id, owner: asset.owner, kind: asset.kind, recipe: canonicalRecipe(resolved.recipe) });
        } else {
          await render();
        }
      } catch (error) {
        if (!isPermanentRenderFailure(error)) throw error;
        if (cacheKey) await deps.failures.record(cacheKey, error);
        logger.info({ assetId: asset.id, query: payload.query, code: error.code }, "render-variant: the variant cannot be rendered");
        throw new PermanentJobError(`${error.code}: ${error.message}`, { cause: error });
      }
    },

    /**
     * The eager variants of an asset that has just become ready: one job each. A recipe
     * this content does not allow (`t` on an image) is skipped; one already stored is not
     * rendered again.
     */
    async eager(assetId: string, queries: readonly string[]): Promise<void> {
      const asset = await servableAsset(assetId);
      if (!asset) return;
      for (const query of queries) {
        let cacheKey: string;
        try {
          cacheKey = renderer.resolve(asset, renderer.plan(parseQuery(query), undefined).recipe).cacheKey;
        } catch (error) {
          logger.info({ assetId, query, err: error }, "eager variant skipped: the content does not allow it");
          continue;
        }
        if (await repos.variants.get(cacheKey)) continue;
        await enqueueRender(deps.queue, { assetId, query }, cacheKey);
      }
    },
  };
}

export type RenderJobs = ReturnType<typeof createRenderJobs>;
