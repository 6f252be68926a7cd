// Builds dist/ when it is missing or older than any source file, so `npm start`
// works straight after `npm ci` on a fresh clone.
import { existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const marker = join(root, "dist", "src", "cli", "index.js");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const stale = !existsSync(marker) ||
  Math.max(newestMtime(join(root, "src")), newestMtime(join(root, "bench"))) > statSync(marker).mtimeMs;
if (stale) {
  process.stderr.write("assetd: building (tsc)...\n");
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.json")], { stdio: "inherit" });
}
