/**
 * Demand prediction (prewarm): the recipes an owner's assets of one kind were asked for
 * most in a recent window are rendered for a new asset of that owner and kind as soon as
 * it is ready, so their first request is a hit.
 */

/** At most this many predicted recipes per asset (the eager variants' bound too). */
export const MAX_PREWARM_TOP = 16;

const DAY_MS = 86_400_000;

/** The epoch day of a time in ms: request counts are kept per day. */
export function demandDay(at: number): number {
  return Math.floor(at / DAY_MS);
}

export interface Demand {
  /** A canonical recipe (domain/recipe.ts `canonicalRecipe`). */
  recipe: string;
  requests: number;
  /** The last epoch day it was requested. */
  lastDay: number;
}

/**
 * Recipes in the order prediction tries them: most requests first; on a tie the one asked
 * for more recently, then by recipe text (so the order is stable). Recipes the asset
 * already has (`exclude`) and recipes nobody asked for are left out.
 */
export function rankRecipes(demand: readonly Demand[], exclude: ReadonlySet<string> = new Set()): Demand[] {
  return demand
    .filter((d) => d.requests > 0 && !exclude.has(d.recipe))
    .sort((a, b) => b.requests - a.requests || b.lastDay - a.lastDay || (a.recipe < b.recipe ? -1 : a.recipe > b.recipe ? 1 : 0));
}

/** The `top` recipes to prewarm for an asset (see rankRecipes). */
export function predictRecipes(demand: readonly Demand[], options: { top: number; exclude?: ReadonlySet<string> }): Demand[] {
  return rankRecipes(demand, options.exclude).slice(0, Math.max(0, options.top));
}

/**
 * The transform query a render job is given for a canonical recipe. A format negotiated
 * for a client that took neither AVIF nor WebP (`jpeg-or-png`) is asked as `fmt=auto`,
 * which a job (no Accept header) negotiates to the same.
 */
export function prewarmQuery(recipe: string): string {
  return recipe.split("&").map((part) => (part === "fmt=jpeg-or-png" ? "fmt=auto" : part)).join("&");
}
