import { readSecret } from "../auth/secret.js";
import { loadConfig } from "../config/index.js";
import { createRuntime } from "../main.js";
import { loginLink } from "../main/login-link.js";
import { listenForMetrics, type MetricsListener } from "../main/worker-metrics.js";

/**
 * `assetd serve` and `assetd worker`: run until SIGINT/SIGTERM, then shut down gracefully.
 * The banner shows an admin token on the first start of a data directory (when the secret
 * is created) or with `--print-token`, never on every start into the logs.
 */
export async function serveCommand(roles: { api: boolean; worker: boolean }, options: { printToken?: boolean } = {}): Promise<void> {
  const config = loadConfig();
  const firstStart = config.jwtSecret === undefined && (await readSecret(config.dataDir)) === undefined;
  const runtime = await createRuntime(config, roles);

  let metricsListener: MetricsListener | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info({ signal }, "shutting down");
    Promise.all([metricsListener?.close(), runtime.close()]).then(() => process.exit(0), (error: unknown) => {
      runtime.logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  if (!roles.api) {
    // The worker's jobs count into its own registry: scraped here, not through an API.
    if (config.workerMetricsPort !== undefined) {
      const port = config.workerMetricsPort;
      metricsListener = await listenForMetrics({ port, host: config.host, token: config.metricsToken }, runtime.metrics.http).catch(async (error: unknown) => {
        await runtime.close().catch(() => undefined);
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
          throw new Error(`port ${port} on ${config.host} (the worker's /metrics) is already in use: is another assetd worker running on this host? Set ASSETD_WORKER_METRICS_PORT to another port, or to off`);
        }
        throw error;
      });
    }
    const scrape = metricsListener ? `, metrics: ${metricsListener.url.replace("127.0.0.1", "localhost")}` : "";
    process.stdout.write(`assetd worker is running (concurrency ${config.workerConcurrency}, database: ${config.databaseUrl.startsWith("sqlite:") ? "SQLite" : "PostgreSQL"}, queue: ${config.redisUrl ? "Redis" : "embedded"}${scrape})\n`);
    return;
  }
  const address = await runtime.listen().catch(async (error: unknown) => {
    await runtime.close().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new Error(`port ${config.port} on ${config.host} is already in use: is another assetd (or another server) running? Stop it, or set ASSETD_PORT to another port`);
    }
    throw error;
  });
  const shown = address.replace("127.0.0.1", "localhost").replace("[::1]", "localhost");
  // The code rides in the fragment, which browsers never send: it is in no access log.
  const { code } = await runtime.loginCodes.create({ sub: "admin", admin: true });
  const lines = [
    "",
    `assetd is running at ${shown}  (API: ${shown}/v1/assets, metrics: ${shown}/metrics)`,
    `web console: ${loginLink(config.publicUrl ?? shown, code)}  (one-time sign-in link, valid 10 minutes)`,
    `data: ${config.dataDir}   database: ${config.databaseUrl.startsWith("sqlite:") ? "SQLite" : "PostgreSQL"}   roles: api${roles.worker ? " + worker" : ""}`,
  ];
  for (const tool of await runtime.videoTools()) {
    if (!tool.available) lines.push(`warning: ${tool.reason ?? `${tool.name} is unavailable`}; ${TOOL_HINTS[tool.name] ?? "the features that need it answer 503"}`);
  }
  if (firstStart || options.printToken) {
    const adminToken = await runtime.tokens.sign({ sub: "admin", admin: true }, 30 * 24 * 3600);
    lines.push("admin token (valid 30 days; mint others with `assetd token --sub NAME`):", `  export ASSETD_TOKEN=${adminToken}`);
  } else {
    lines.push("mint tokens with `assetd token --sub NAME [--admin]` (or restart with --print-token)");
  }
  process.stdout.write([...lines, ""].join("\n") + "\n");
}

/** What a missing tool costs, and how to get it (Debian's packages; see the README). */
const TOOL_HINTS: Readonly<Record<string, string>> = {
  ffmpeg: "video posters and HLS streaming are unavailable until it is installed (Debian: apt install ffmpeg)",
  ffprobe: "video and audio metadata is unavailable until it is installed (Debian: apt install ffmpeg)",
};
