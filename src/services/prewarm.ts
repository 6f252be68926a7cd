import type { AssetRow } from "../domain/asset.js";
import { AppError, InvalidParameterError, NotFoundError } from "../domain/errors.js";
import { demandDay, MAX_PREWARM_TOP, prewarmQuery, rankRecipes } from "../domain/prewarm.js";
import { canonicalRecipe, type Query } from "../domain/recipe.js";
import type { Clock } from "../ports/clock.js";
import type { JobPayloads, JobQueue } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import type { Metrics } from "../ports/metrics.js";
import type { PrewarmedVariant } from "../ports/prewarm.js";
import type { Repos } from "../ports/repos.js";
import { enqueueRender, type Renderer } from "./render-jobs.js";

/** Recipes predicted per asset by `POST /v1/admin/prewarm` when neither the body nor ASSETD_PREWARM_TOP says. */
export const ON_DEMAND_TOP = 3;
/** Assets listed per page when prewarming all of an owner's. */
const PAGE = 500;

export interface PrewarmDeps {
  repos: Pick<Repos, "assets" | "variants" | "prewarm">;
  queue: Pick<JobQueue, "enqueue">;
  renderer: Pick<Renderer, "plan" | "resolve">;
  clock: Clock;
  logger: Logger;
  metrics: Pick<Metrics, "prewarmRendered">;
  /** ASSETD_PREWARM_TOP: recipes predicted for each asset that becomes ready; 0 turns that off. */
  top: number;
  /** ASSETD_PREWARM_WINDOW_DAYS: the days of requests prediction looks at (today included). */
  windowDays: number;
}

/** What prediction did for one asset. */
export interface PrewarmItem {
  assetId: string;
  owner: string;
  kind: string;
  /** Recipes queued (or, in a dry run, that would be), most requested first, with their requests in the window. */
  queued: Array<{ recipe: string; requests: number }>;
  /** Predicted recipes whose variant the asset's content already has. */
  present: string[];
  /** Predicted recipes this content does not allow (e.g. `t` on an image). */
  skipped: string[];
}

export interface PrewarmReport {
  dryRun: boolean;
  top: number;
  windowDays: number;
  /** Ready assets looked at. */
  assets: number;
  queued: number;
  present: number;
  skipped: number;
  /** The assets something was predicted for. */
  items: PrewarmItem[];
}

export interface PrewarmTarget {
  assetId?: string | undefined;
  owner?: string | undefined;
  top?: number | undefined;
  dryRun?: boolean | undefined;
}

const parseQuery = (query: string): Query => Object.fromEntries(new URLSearchParams(query));

/**
 * Demand prediction: the recipes most requested on an owner's assets of one kind in the
 * window (services/demand.ts counts them) are rendered for a new asset of that owner and
 * kind once it is ready, by the `render-variant` job eager variants use, marked `prewarm`.
 */
export function createPrewarmService(deps: PrewarmDeps) {
  const { repos, logger } = deps;

  const sinceDay = () => demandDay(deps.clock.now()) - deps.windowDays + 1;

  /** Canonical recipes the asset has or is about to have: stored variants of its content, and the eager ones it named. */
  async function owned(asset: AssetRow & { blobSha256: string }, eager: readonly string[]): Promise<Set<string>> {
    const have = new Set((await repos.variants.listByBlob(asset.blobSha256)).map((v) => v.recipe));
    for (const query of eager) {
      try {
        have.add(canonicalRecipe(deps.renderer.plan(parseQuery(query), undefined).recipe));
      } catch {
        // Not a recipe any more (presets changed): nothing to leave out.
      }
    }
    return have;
  }

  async function forAsset(asset: AssetRow, top: number, dryRun: boolean, eager: readonly string[] = []): Promise<PrewarmItem | undefined> {
    if (asset.status !== "ready" || !asset.blobSha256 || top <= 0) return undefined;
    const servable = asset as AssetRow & { blobSha256: string };
    const exclude = await owned(servable, eager);
    const demand = await repos.prewarm.demand(asset.owner, asset.kind, sinceDay(), Math.min(500, top * 4 + exclude.size));
    const item: PrewarmItem = { assetId: asset.id, owner: asset.owner, kind: asset.kind, queued: [], present: [], skipped: [] };
    for (const { recipe, requests } of rankRecipes(demand, exclude)) {
      if (item.queued.length >= top) break;
      const query = prewarmQuery(recipe);
      let cacheKey: string;
      try {
        cacheKey = deps.renderer.resolve(servable, deps.renderer.plan(parseQuery(query), undefined).recipe).cacheKey;
      } catch {
        item.skipped.push(recipe);
        continue;
      }
      if (await repos.variants.get(cacheKey)) {
        item.present.push(recipe);
        continue;
      }
      if (!dryRun) await enqueueRender(deps.queue, { assetId: asset.id, query, prewarm: true }, cacheKey);
      item.queued.push({ recipe, requests });
    }
    return item.queued.length + item.present.length + item.skipped.length > 0 ? item : undefined;
  }

  /** Called once an asset is ready: its prediction runs in a `prewarm` job (when ASSETD_PREWARM_TOP is above 0). */
  async function afterReady(assetId: string, eager: readonly string[] | undefined): Promise<void> {
    if (deps.top <= 0) return;
    await deps.queue.enqueue("prewarm", { assetId, ...(eager?.length ? { eager: [...eager] } : {}) }, { key: assetId });
  }

  /** The `prewarm` job. */
  async function job(payload: JobPayloads["prewarm"]): Promise<void> {
    const asset = await repos.assets.get(payload.assetId, { tags: false });
    if (!asset) return;
    const item = await forAsset(asset, deps.top, false, payload.eager ?? []);
    if (item?.queued.length) logger.info({ assetId: asset.id, recipes: item.queued.map((q) => q.recipe) }, "prewarm: predicted variants queued");
  }

  /** `POST /v1/admin/prewarm`: one ready asset, or every ready asset of an owner. */
  async function run(target: PrewarmTarget): Promise<PrewarmReport> {
    const top = target.top ?? (deps.top > 0 ? deps.top : ON_DEMAND_TOP);
    if (!Number.isInteger(top) || top < 1 || top > MAX_PREWARM_TOP) throw new InvalidParameterError("top", `top must be an integer from 1 to ${MAX_PREWARM_TOP}`);
    const dryRun = target.dryRun === true;
    const report: PrewarmReport = { dryRun, top, windowDays: deps.windowDays, assets: 0, queued: 0, present: 0, skipped: 0, items: [] };
    const add = async (asset: AssetRow) => {
      report.assets++;
      const item = await forAsset(asset, top, dryRun);
      if (!item) return;
      report.items.push(item);
      report.queued += item.queued.length;
      report.present += item.present.length;
      report.skipped += item.skipped.length;
    };
    if (target.assetId !== undefined) {
      const asset = await repos.assets.get(target.assetId, { tags: false });
      if (!asset || asset.status === "deleted" || (target.owner !== undefined && asset.owner !== target.owner)) throw new NotFoundError();
      if (asset.status !== "ready") throw new AppError("state_conflict", `only ready assets are prewarmed; this one is ${asset.status}`);
      await add(asset);
      return report;
    }
    if (target.owner === undefined) throw new InvalidParameterError("assetId", "name an asset (assetId) or an owner whose ready assets to prewarm");
    let beforeId: string | undefined;
    for (;;) {
      const page = await repos.assets.list({ status: "ready", owner: target.owner }, { kind: "all" }, { limit: PAGE, ...(beforeId ? { beforeId } : {}) });
      for (const asset of page) await add(asset);
      if (page.length < PAGE) break;
      beforeId = page[page.length - 1]!.id;
    }
    return report;
  }

  /** Records a variant a prewarm job rendered (render-jobs.ts). */
  async function rendered(variant: Omit<PrewarmedVariant, "at">): Promise<void> {
    if (await repos.prewarm.markRendered({ ...variant, at: deps.clock.now() })) deps.metrics.prewarmRendered();
  }

  /** Prewarmed variants, and how many of them were requested afterwards: whether prediction pays. */
  async function figures(owner?: string): Promise<{ variants: number; requested: number; hitShare: number }> {
    const { variants, requested } = await repos.prewarm.figures(owner);
    return { variants, requested, hitShare: variants > 0 ? requested / variants : 0 };
  }

  /** Drops request counts older than the window. */
  const prune = (): Promise<number> => repos.prewarm.pruneDemand(sinceDay());

  return { afterReady, job, run, rendered, figures, prune };
}

export type PrewarmService = ReturnType<typeof createPrewarmService>;
