// Builds dist/ when it is missing or older than any source file, so `npm start`
// works straight after `npm ci` on a fresh clone: the server (tsc) and the web console
// (vite, into dist/web). `--console` checks the console only.
import { existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const marker = join(root, "dist", "src", "cli", "index.js");
const consoleMarker = join(root, "dist", "web", "index.html");
const consoleOnly = process.argv.includes("--console");

function newestMtime(dir, wanted) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, wanted));
    else if (wanted(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}
const serverSource = (name) => name.endsWith(".ts") && !name.endsWith(".test.ts");
const consoleSource = (name) => /\.(tsx?|css|html|json)$/.test(name);

const stale = !existsSync(marker) ||
  Math.max(newestMtime(join(root, "src"), serverSource), newestMtime(join(root, "bench"), serverSource)) > statSync(marker).mtimeMs;
if (stale && !consoleOnly) {
  process.stderr.write("assetd: building (tsc)...\n");
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.json")], { stdio: "inherit" });
}
const consoleStale = !existsSync(consoleMarker) || newestMtime(join(root, "web"), consoleSource) > statSync(consoleMarker).mtimeMs;
if (consoleStale) {
  process.stderr.write("assetd: building the web console (vite)...\n");
  execFileSync(process.execPath, [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", join(root, "web", "vite.config.ts"), "--logLevel", "warn"],
    // A production build even when a test runner (NODE_ENV=test) asks for it.
    { stdio: "inherit", cwd: root, env: { ...process.env, NODE_ENV: "production" } });
}
