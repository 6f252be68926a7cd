import { createReadStream, existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

export interface ConsoleRouteDeps {
  /** The built console (`vite build` output): index.html and assets/. */
  dir: string;
}

/** Where the hashed bundle files are served; index.html names them under this path. */
export const CONSOLE_ASSETS_PATH = "/console/assets/";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

/**
 * The page's own rules: scripts and styles from this origin only; images, video and API
 * calls from anywhere (manifests may name a public URL on another origin); hls.js runs its
 * demuxer in a blob: worker and plays through MediaSource (blob: media).
 */
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src * data: blob:", "media-src * blob:",
  "connect-src *", "worker-src 'self' blob:", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
].join("; ");

/** dist/web next to the package root this module was loaded from (src/ under tsx, dist/src/ when built). */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dir, "dist", "web");
}

/**
 * GET / is the web console (DESIGN §10): index.html, never cached for long so a new build
 * shows at once; the hashed bundle under /console/assets/ is immutable. A missing build is
 * a plain 503 telling how to make it, not a crash.
 */
export async function consoleRoutes(app: FastifyInstance, deps: ConsoleRouteDeps): Promise<void> {
  const root = resolve(deps.dir);
  const assetsRoot = join(root, "assets");

  // Not part of the HTTP API: left out of the OpenAPI document.
  app.get("/", { schema: { hide: true } }, async (_request, reply) => {
    const index = join(root, "index.html");
    const info = await stat(index).catch(() => undefined);
    if (!info?.isFile()) {
      return reply.code(503).type("text/plain; charset=utf-8").header("Cache-Control", "no-store")
        .send(`The web console is not built (no ${index}). Run \`npm run build:web\` (or \`npm run build\`) and reload.\n`);
    }
    reply.header("Cache-Control", "no-cache").header("Content-Security-Policy", CSP).header("X-Content-Type-Options", "nosniff");
    return sendFile(reply, index, info.size, "text/html; charset=utf-8");
  });

  app.get(`${CONSOLE_ASSETS_PATH}*`, { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { "*": string })["*"];
    const file = safeJoin(assetsRoot, name);
    const info = file ? await stat(file).catch(() => undefined) : undefined;
    const type = file ? TYPES[extname(file)] : undefined;
    if (!file || !info?.isFile() || !type) {
      return reply.code(404).type("application/json; charset=utf-8")
        .send({ error: { code: "not_found", message: "no such console file" } });
    }
    reply.header("Cache-Control", "public, max-age=31536000, immutable").header("X-Content-Type-Options", "nosniff");
    return sendFile(reply, file, info.size, type);
  });
}

/**
 * `name` inside `base`, or undefined for anything that could leave it: `..` segments,
 * absolute paths, backslashes, NUL, dot-files, and percent-encoded forms of those (Fastify
 * has decoded the path once already; a second encoding stays literal and is refused here).
 */
export function safeJoin(base: string, name: string): string | undefined {
  if (!name || name.length > 200 || !/^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/.test(name)) return undefined;
  if (name.split("/").some((segment) => segment.startsWith("."))) return undefined;
  const full = resolve(base, name);
  return full.startsWith(base + sep) ? full : undefined;
}

function sendFile(reply: FastifyReply, file: string, size: number, type: string): FastifyReply {
  return reply.type(type).header("Content-Length", size).send(createReadStream(file));
}
