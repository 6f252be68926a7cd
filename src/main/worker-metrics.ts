import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sameSecret } from "../http/routes/health.js";
import type { HttpMetrics } from "../ports/metrics.js";

export interface MetricsListener {
  /** Where /metrics is served, e.g. `http://127.0.0.1:9464/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * `assetd worker` has no API, but its jobs count into its own registry: this small listener
 * serves that registry at `GET /metrics` (and `/healthz`), behind ASSETD_METRICS_TOKEN when
 * set, exactly as the API's /metrics is.
 */
export async function listenForMetrics(
  options: { port: number; host: string; token: string | undefined },
  metrics: Pick<HttpMetrics, "render">,
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
    };
    if (request.method !== "GET" && request.method !== "HEAD") return json(405, { error: { code: "method_not_allowed", message: "only GET is served here" } });
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path !== "/metrics") return json(404, { error: { code: "not_found", message: "this port serves only /metrics and /healthz" } });
    if (options.token !== undefined) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
      if (!sameSecret(given, options.token)) return json(401, { error: { code: "unauthorized", message: "/metrics needs the metrics bearer token" } });
    }
    metrics.render().then(({ contentType, body }) => {
      response.writeHead(200, { "content-type": contentType });
      response.end(request.method === "HEAD" ? undefined : body);
    }, () => json(500, { error: { code: "internal", message: "internal error" } }));
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 30_000;
  await listen(server, options.port, options.host);
  const { address, port } = server.address() as AddressInfo;
  const shown = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${shown}:${port}/metrics`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
