import { describe, expect, it } from "vitest";
import { createCpuBudget } from "../../src/media/cpu-budget.js";
import { silentLogger } from "../../src/ports/logger.js";
import type { AssetRow } from "../../src/domain/asset.js";
import { createRenderJobs, type Renderer } from "../../src/services/render-jobs.js";
import type { RenderFailures } from "../../src/services/render-failures.js";

/**
 * ASSETD_PREWARM_CPU_SHARE: prewarm renders run at most the gate's slots at a time; other
 * render jobs do not wait for the gate. The renderer is a stand-in that counts how many
 * renders run at once.
 */
function harness() {
  const running = { all: 0 };
  const releases: Array<() => void> = [];
  const rendered: string[] = [];
  const asset = { id: "a1", owner: "olga", kind: "image", status: "ready", blobSha256: "b".repeat(64), contentType: "image/jpeg", meta: {} } as unknown as AssetRow;
  const renderer: Renderer = {
    plan: (query) => ({ recipe: { w: Number(query.w) } }),
    resolve: (_asset, recipe) => ({ recipe, cacheKey: `key-${recipe.w}`, frames: undefined }),
    cached: async () => undefined,
    produce: async () => {
      running.all++;
      await new Promise<void>((resolve) => releases.push(resolve));
      running.all--;
    },
  };
  const jobs = createRenderJobs({
    renderer,
    repos: { assets: { get: async () => asset }, variants: { get: async () => undefined } } as never,
    queue: { enqueue: async () => {} },
    failures: {} as RenderFailures,
    scanning: false,
    logger: silentLogger,
    prewarm: {
      gate: createCpuBudget({ slots: 1 }),
      rendered: async (variant) => void rendered.push(variant.recipe),
    },
  });
  const settle = () => new Promise((r) => setTimeout(r, 10));
  return { jobs, running, releases, rendered, settle };
}

describe("prewarm renders within their share of the render slots", () => {
  it("runs one prewarm render at a time with a one-slot gate, and records each once it is stored", async () => {
    const { jobs, running, releases, rendered, settle } = harness();
    const done = [100, 200, 300].map((w) => jobs.job({ assetId: "a1", query: `w=${w}`, prewarm: true }));
    await settle();
    expect(running.all).toBe(1);
    releases.shift()!();
    await settle();
    expect(running.all).toBe(1);
    expect(rendered).toEqual(["w=100"]);
    releases.shift()!();
    await settle();
    releases.shift()!();
    await Promise.all(done);
    expect(rendered).toEqual(["w=100", "w=200", "w=300"]);
  });

  it("does not hold back renders that are not prewarm, nor record them", async () => {
    const { jobs, running, releases, rendered, settle } = harness();
    const prewarm = jobs.job({ assetId: "a1", query: "w=100", prewarm: true });
    const asked = [200, 300].map((w) => jobs.job({ assetId: "a1", query: `w=${w}` }));
    await settle();
    expect(running.all).toBe(3);
    while (releases.length > 0) releases.shift()!();
    await Promise.all([prewarm, ...asked]);
    expect(rendered).toEqual(["w=100"]);
  });
});
