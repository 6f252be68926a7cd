/**
 * The import rule of docs/ARCHITECTURE.md, checked on the real import graph (madge reads
 * every `import`, type-only ones included), so that a shortcut that runs back up a layer
 * fails here instead of growing quietly.
 */
import madge from "madge";
import { describe, expect, it } from "vitest";

/** Top-level folders (or root files) of src/ and the folders each may import from. */
const ALLOWED: Record<string, readonly string[]> = {
  domain: [],
  ports: ["domain"],
  config: ["domain"],
  services: ["domain", "ports"],
  // Adapters implement ports. The embedded job queue is a table of the metadata database,
  // so it builds on the database layer's dialect glue: the one adapter-to-adapter arrow.
  storage: ["domain", "ports"],
  db: ["domain", "ports"],
  queue: ["domain", "ports", "db"],
  locks: ["domain", "ports"],
  media: ["domain", "ports"],
  observability: ["domain", "ports"],
  auth: ["domain", "ports"],
  // Outbound HTTP on a caller's behalf, behind the fetch guard.
  net: ["domain", "ports"],
  http: ["domain", "ports", "services"],
  // The client ships to browsers and other programs: it stands alone.
  client: [],
  // Entry points: the CLI starts the runtime (main) or talks to a server through the client.
  cli: ["domain", "ports", "config", "client", "auth", "db", "main"],
  main: ["*"],
};

function layerOf(file: string): string {
  const top = file.split("/")[0]!;
  return top.replace(/\.ts$/, "");
}

async function importGraph(): Promise<Record<string, string[]>> {
  const result = await madge("src", {
    fileExtensions: ["ts"],
    tsConfig: "tsconfig.json",
    excludeRegExp: [/\.test\.ts$/],
  });
  return result.obj();
}

describe("the import graph of src/", () => {
  it("has no arrow that runs against the layer rule", async () => {
    const graph = await importGraph();
    expect(Object.keys(graph).length).toBeGreaterThan(100);
    const wrong: string[] = [];
    for (const [from, targets] of Object.entries(graph)) {
      const layer = layerOf(from);
      const allowed = ALLOWED[layer];
      if (!allowed) {
        wrong.push(`${from}: src/${layer} is not a known layer (add it to ALLOWED and docs/ARCHITECTURE.md)`);
        continue;
      }
      for (const to of targets) {
        const target = layerOf(to);
        if (target === layer || allowed.includes("*") || allowed.includes(target)) continue;
        wrong.push(`${from} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("has no circle outside src/client/", async () => {
    const result = await madge("src", {
      fileExtensions: ["ts"],
      tsConfig: "tsconfig.json",
      excludeRegExp: [/\.test\.ts$/],
    });
    const circles = result.circular().filter((circle) => !circle.every((file) => file.startsWith("client/")));
    expect(circles).toEqual([]);
  });
});
