import type { Config } from "../config/index.js";
import type { RemoteHttp } from "../ports/remote-http.js";
import type { Clock } from "../ports/clock.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import type { Repos } from "../ports/repos.js";
import { toManifest } from "../services/manifest.js";
import { createWebhookDelivery, type WebhookDelivery } from "../services/webhook-delivery.js";
import { createWebhookService, type WebhookService } from "../services/webhooks.js";

/** How often a worker looks for outbox rows to queue (the delay a notification may wait after its state change). */
const RELAY_INTERVAL_MS = 200;

export interface Webhooks {
  service: WebhookService;
  delivery: WebhookDelivery;
  /** Starts the outbox relay (worker role). */
  startRelay(): void;
  stopRelay(): Promise<void>;
}

/**
 * Webhooks wired: subscriptions for the API, the delivery job and the outbox relay for the
 * worker. Manifests in deliveries are the owner's view, on ASSETD_PUBLIC_URL (relative URLs
 * without it: a worker has no request whose origin it could use).
 */
export function createWebhooks(config: Config, deps: {
  repos: Repos; http: RemoteHttp; queue: JobQueue; clock: Clock; logger: Logger; presetsFor(contentType: string): readonly string[];
}): Webhooks {
  const { repos, clock, logger } = deps;
  const service = createWebhookService({ webhooks: repos.webhooks, clock, allow: config.fetch.allow });
  const delivery = createWebhookDelivery({
    webhooks: repos.webhooks, assets: repos.assets, http: deps.http, queue: deps.queue, clock, logger,
    attempts: config.webhooks.attempts, timeoutMs: config.webhooks.timeoutMs,
    manifest: (asset) => toManifest(asset, { sub: asset.owner, groups: [], admin: false }, config.publicUrl ?? "", deps.presetsFor(asset.contentType ?? "")),
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  return {
    service, delivery,
    startRelay() {
      if (timer) return;
      timer = setInterval(() => {
        if (busy) return;
        busy = true;
        running = delivery.relay()
          .catch((error: unknown) => logger.warn({ err: error }, "webhook relay failed; it runs again shortly"))
          .finally(() => { busy = false; });
      }, RELAY_INTERVAL_MS);
      timer.unref();
    },
    async stopRelay() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
