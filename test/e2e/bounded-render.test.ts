import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, startApp, upload, type TestApp } from "../helpers/app.js";
import { buildPdf, manyPathsContent } from "../helpers/pdf-writer.js";

/**
 * A hostile PDF (one page of a million path operators) rendered by an anonymous client
 * (DESIGN §10 "Bounded cost"): the render is killed at its deadline with 422
 * render_timeout, and the server keeps answering everyone else meanwhile.
 */
describe("renders that block", () => {
  let app: TestApp;
  let id: string;

  beforeAll(async () => {
    app = await startApp({ ASSETD_RENDER_TIMEOUT_MS: "1500" });
    const owner = await app.token("mallory");
    const hostile = buildPdf([{ width: 200, height: 200, content: manyPathsContent(1_000_000) }]);
    id = (await upload(app, owner, hostile, { "content-type": "application/pdf", prefer: "wait=20" }, "?public=true&filename=paths.pdf")).body.id;
  });
  afterAll(() => app.close());

  it("answers 422 render_timeout while /healthz stays responsive", async () => {
    const render = fetch(`${app.url}/a/${id}?page=1&w=1200`);
    const started = Date.now();
    const lags: number[] = [];
    let done = false;
    void render.finally(() => { done = true; });
    while (!done && Date.now() - started < 20_000) {
      const t = performance.now();
      const health = await fetch(`${app.url}/healthz`);
      expect(health.status).toBe(200);
      await health.arrayBuffer();
      lags.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
    const response = await render;
    expect(response.status).toBe(422);
    expect((await json(response)).error.code).toBe("render_timeout");
    expect(lags.length).toBeGreaterThan(5);
    // Every health check answered well within the render's own time.
    expect(Math.max(...lags)).toBeLessThan(1000);
  });
});
