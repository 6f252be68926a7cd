import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The installed package's version, from the nearest package.json named assetd above this
 * module (src/cli under tsx, dist/src/cli when built).
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "assetd" && pkg.version) return pkg.version;
    } catch {
      // not here: look one folder up
    }
  }
  return "unknown";
}
