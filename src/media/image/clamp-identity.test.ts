import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { clampToSource, type Fit, type Recipe } from "../../domain/recipe.js";

/** What the resize step asks of sharp for a recipe (steps/resize.ts, plan.ts). */
async function render(source: Buffer, recipe: Recipe): Promise<Buffer> {
  const both = recipe.w !== undefined && recipe.h !== undefined;
  return sharp(source).autoOrient().resize({
    ...(recipe.w !== undefined ? { width: recipe.w } : {}),
    ...(recipe.h !== undefined ? { height: recipe.h } : {}),
    fit: both ? recipe.fit ?? "cover" : "inside",
    position: recipe.pos ?? "center",
    withoutEnlargement: recipe.enlarge !== true,
  }).png().toBuffer();
}

describe("a clamped recipe renders what the recipe asked for", () => {
  it("gives byte-identical output for every fit and side beyond the source", async () => {
    const width = 96;
    const height = 64;
    const pixels = Buffer.alloc(width * height * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + (i >> 7) * 11) % 256;
    const source = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg().toBuffer();
    const fits: (Fit | undefined)[] = [undefined, "cover", "inside", "outside", "fill"];
    const cases: Recipe[] = [{ w: 200 }, { h: 90 }, { w: 500, h: 40 }, { w: 40, h: 500 }, { w: 300, h: 300 }];
    let compared = 0;
    for (const base of cases) {
      for (const fit of fits) {
        for (const pos of [undefined, "northeast", "attention"] as const) {
          const recipe: Recipe = { ...base, ...(fit ? { fit } : {}), ...(pos ? { pos } : {}) };
          const normal = clampToSource(recipe, { width, height });
          expect(normal).not.toEqual(recipe);
          expect(await render(source, normal)).toEqual(await render(source, recipe));
          compared++;
        }
      }
    }
    expect(compared).toBe(75);
  });
});
