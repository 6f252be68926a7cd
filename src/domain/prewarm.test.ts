import { describe, expect, it } from "vitest";
import { parseTransform, canonicalRecipe, withFormat, negotiateFormat } from "./recipe.js";
import { demandDay, predictRecipes, prewarmQuery, rankRecipes } from "./prewarm.js";

const d = (recipe: string, requests: number, lastDay = 100) => ({ recipe, requests, lastDay });

describe("prewarm prediction", () => {
  it("takes the most requested recipes first", () => {
    const demand = [d("w=100", 1), d("w=300&fmt=webp", 6), d("w=120&h=120", 3)];
    expect(predictRecipes(demand, { top: 1 }).map((x) => x.recipe)).toEqual(["w=300&fmt=webp"]);
    expect(predictRecipes(demand, { top: 2 }).map((x) => x.recipe)).toEqual(["w=300&fmt=webp", "w=120&h=120"]);
    expect(predictRecipes(demand, { top: 5 }).map((x) => x.recipe)).toEqual(["w=300&fmt=webp", "w=120&h=120", "w=100"]);
  });

  it("predicts nothing with top 0 or without demand", () => {
    expect(predictRecipes([d("w=100", 4)], { top: 0 })).toEqual([]);
    expect(predictRecipes([], { top: 3 })).toEqual([]);
    expect(predictRecipes([d("w=100", 0)], { top: 3 })).toEqual([]);
  });

  it("leaves out recipes the asset already has, and takes the next ones instead", () => {
    const demand = [d("w=300&fmt=webp", 6), d("w=120&h=120", 3), d("w=100", 1)];
    expect(predictRecipes(demand, { top: 2, exclude: new Set(["w=300&fmt=webp"]) }).map((x) => x.recipe)).toEqual(["w=120&h=120", "w=100"]);
  });

  it("breaks ties by recency, then by recipe, whatever the input order", () => {
    const demand = [d("w=b", 2, 10), d("w=a", 2, 10), d("w=c", 2, 12)];
    expect(rankRecipes(demand).map((x) => x.recipe)).toEqual(["w=c", "w=a", "w=b"]);
    expect(rankRecipes([...demand].reverse()).map((x) => x.recipe)).toEqual(["w=c", "w=a", "w=b"]);
  });

  it("does not reorder its input", () => {
    const demand = [d("w=1", 1), d("w=2", 2)];
    rankRecipes(demand);
    expect(demand.map((x) => x.recipe)).toEqual(["w=1", "w=2"]);
  });

  it("turns a canonical recipe into a query that plans back to the same recipe", () => {
    for (const [query, accept] of [["w=300&fmt=webp", undefined], ["fmt=auto&w=200&h=100&fit=inside", undefined], ["preset=thumb", "image/webp"], ["w=50&blur=2&strip=0", undefined]] as const) {
      const request = parseTransform(Object.fromEntries(new URLSearchParams(query)));
      const canonical = canonicalRecipe(withFormat(request, negotiateFormat(accept, { avif: false })));
      const replay = parseTransform(Object.fromEntries(new URLSearchParams(prewarmQuery(canonical))));
      expect(canonicalRecipe(withFormat(replay, negotiateFormat(undefined, { avif: false }))), query).toBe(canonical);
    }
  });

  it("counts requests per epoch day", () => {
    expect(demandDay(0)).toBe(0);
    expect(demandDay(86_400_000 - 1)).toBe(0);
    expect(demandDay(86_400_000 * 3 + 5)).toBe(3);
  });
});
