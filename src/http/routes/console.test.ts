import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleRoutes, safeJoin } from "./console.js";

describe("the console's static files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "assetd-console-"));
    await mkdir(join(dir, "built", "assets"), { recursive: true });
    await writeFile(join(dir, "built", "index.html"), "<!doctype html><title>x</title>");
    await writeFile(join(dir, "built", "assets", "index-abc123.js"), "console.log(1)");
    await writeFile(join(dir, "built", "secret.txt"), "not a bundle file");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const appOn = async (root: string) => {
    const app = Fastify();
    await app.register(consoleRoutes, { dir: root });
    return app;
  };

  it("answers a clear 503 in words when the console is not built", async () => {
    const app = await appOn(join(dir, "missing"));
    const response = await app.inject("/");
    expect(response.statusCode).toBe(503);
    expect(response.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(response.body).toMatch(/The web console is not built .*npm run build:web/);
  });

  it("serves index.html uncached-for-long and hashed files as immutable", async () => {
    const app = await appOn(join(dir, "built"));
    const index = await app.inject("/");
    expect(index.statusCode).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.headers["cache-control"]).toBe("no-cache");
    expect(index.headers["content-security-policy"]).toContain("script-src 'self'");
    const script = await app.inject("/console/assets/index-abc123.js");
    expect(script.statusCode).toBe(200);
    expect(script.body).toBe("console.log(1)");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(script.headers["content-length"]).toBe("14");
  });

  it.each([
    "/console/assets/../secret.txt", "/console/assets/..%2fsecret.txt", "/console/assets/%2e%2e%2fsecret.txt",
    "/console/assets/..%5csecret.txt", "/console/assets/%00", "/console/assets/.env", "/console/assets/", "/console/assets/nope.js",
  ])("refuses %s", async (path) => {
    const app = await appOn(join(dir, "built"));
    const response = await app.inject(path);
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain("not a bundle file");
  });

  it("joins only plain names under the base", () => {
    expect(safeJoin("/srv/web/assets", "index-1.js")).toBe("/srv/web/assets/index-1.js");
    for (const name of ["../x.js", "a/../../x.js", "/etc/passwd", "a\\b.js", "a\0.js", ".git/config", "", "a//b.js"]) {
      expect(safeJoin("/srv/web/assets", name), name).toBeUndefined();
    }
  });
});
