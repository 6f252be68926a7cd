import { isOwnerView, type Caller } from "../domain/access.js";
import { AppError } from "../domain/errors.js";
import { clampToSource, hasCustomTransform, type Query, type Recipe } from "../domain/recipe.js";
import type { AssetRow, Repos } from "../ports/repos.js";

const side = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value > 0;

/**
 * The recipe with sides beyond the source clamped (domain `clampToSource`), so requests
 * whose output equals an existing recipe's share its cache key (DESIGN §10). Only images
 * the engine renders directly qualify, whose stored size (`meta.width`/`height`, already
 * EXIF-oriented) is the size the engine resizes: not a chosen `page` (pages may differ in
 * size), not SVG (rasterised at the requested size), not video or PDF stills.
 */
export function normaliseRecipe(recipe: Recipe, asset: AssetRow, rendersDirectly: boolean): Recipe {
  const meta = asset.meta ?? {};
  if (!rendersDirectly || recipe.page !== undefined || meta.format === "svg") return recipe;
  if (!side(meta.width) || !side(meta.height)) return recipe;
  return clampToSource(recipe, { width: meta.width, height: meta.height });
}

/**
 * ASSETD_MAX_RECIPES_PER_ASSET: a non-owner cannot make the service store more than `max`
 * distinct variants of one asset's content. Owners and admins, signed URLs (their issuer
 * chose the recipe) and plain presets are exempt. Checked on a miss only, so recipes
 * already stored keep being served. No Retry-After: waiting does not lift the cap (only an
 * eviction or the owner's own requests change the count), so a client should not retry.
 */
export async function assertRecipeAllowed(
  repos: Repos, max: number, caller: Caller, asset: AssetRow & { blobSha256: string }, query: Query, signed: boolean,
): Promise<void> {
  if (signed || isOwnerView(caller, asset) || !hasCustomTransform(query)) return;
  const count = await repos.variants.countByBlob(asset.blobSha256);
  if (count >= max) {
    throw new AppError("recipe_limit", `this asset already has ${count} distinct variants, the most a non-owner may have rendered`, { limit: max });
  }
}
