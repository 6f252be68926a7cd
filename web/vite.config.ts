import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The web console: web/ → dist/web, served by the API at / with its bundle under /console/assets/. */
export default defineConfig({
  root: here,
  base: "/console/",
  publicDir: false,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    reportCompressedSize: true,
    // hls.js (loaded only for video) is one ~580 kB chunk of its own.
    chunkSizeWarningLimit: 700,
  },
});
