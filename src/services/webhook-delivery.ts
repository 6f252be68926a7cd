import { AppError, isAppError } from "../domain/errors.js";
import { checkFetchUrl } from "../domain/fetch-guard.js";
import { signWebhook, webhookBody } from "../domain/webhooks.js";
import type { AssetRow } from "../ports/repos.js";
import type { Clock } from "../ports/clock.js";
import type { JobContext, JobPayloads, JobQueue } from "../ports/job-queue.js";
import type { Logger } from "../ports/logger.js";
import type { RemoteHttp } from "../ports/remote-http.js";
import type { DeliveryRow, WebhookRepo, WebhookRow } from "../ports/webhooks.js";

/** How much of a receiver's answer the delivery log keeps. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface WebhookDeliveryDeps {
  webhooks: WebhookRepo;
  assets: { get(id: string): Promise<AssetRow | undefined> };
  /** The asset's manifest as its owner sees it. */
  manifest(asset: AssetRow): unknown;
  http: RemoteHttp;
  queue: Pick<JobQueue, "enqueue">;
  clock: Clock;
  logger: Logger;
  /** Tries per delivery (ASSETD_WEBHOOK_ATTEMPTS); the queue's backoff spaces them. */
  attempts: number;
  /** One try (ASSETD_WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
}

interface Answer {
  status: number | null;
  error: string | null;
  body: string | null;
}

/**
 * Sending webhooks, at least once: the outbox rows (written with each state change) are
 * queued by `relay` as `webhook-deliver` jobs; `deliver` sends one, signed per Standard
 * Webhooks, logs the attempt and throws on anything but a 2xx so that the job queue
 * retries it with backoff and dead-letters it after the last attempt. The same webhook-id
 * and body go out on every attempt (receivers deduplicate on the id); the timestamp and
 * signature are fresh. Every attempt passes the fetch guard again, after DNS resolution.
 */
export function createWebhookDelivery(deps: WebhookDeliveryDeps) {
  const { webhooks, clock, logger } = deps;

  async function bodyOf(delivery: DeliveryRow): Promise<string> {
    if (delivery.body !== null) return delivery.body;
    const asset = await deps.assets.get(delivery.assetId);
    return webhooks.fixBody(delivery.id, webhookBody(delivery.type, delivery.eventAt, asset ? deps.manifest(asset) : { id: delivery.assetId }));
  }

  async function send(hook: WebhookRow, id: string, body: string, signal: AbortSignal): Promise<Answer> {
    const controller = new AbortController();
    const timeout = new AppError("fetch_timeout", `no answer within ${deps.timeoutMs} ms`, { timeoutMs: deps.timeoutMs });
    const timer = setTimeout(() => controller.abort(timeout), deps.timeoutMs);
    const stop = () => controller.abort(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    const timestamp = Math.floor(clock.now() / 1000);
    try {
      const response = await deps.http.post(checkFetchUrl(hook.url), {
        signal: controller.signal, body,
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signWebhook(hook.secret, id, timestamp, body),
        },
      });
      const excerpt = await readExcerpt(response.body);
      const ok = response.status >= 200 && response.status <= 299;
      // Redirects are not followed: the receiver is the URL that was subscribed.
      return { status: response.status, error: ok ? null : `the receiver answered ${response.status}`, body: excerpt };
    } catch (error) {
      const failure = controller.signal.aborted && !signal.aborted ? timeout : error;
      return { status: null, error: isAppError(failure) ? `${failure.code}: ${failure.message}` : String((failure as Error)?.message ?? failure), body: null };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", stop);
    }
  }

  return {
    /** The `webhook-deliver` job handler. */
    async deliver({ deliveryId }: JobPayloads["webhook-deliver"], ctx: JobContext): Promise<void> {
      const delivery = await webhooks.delivery(deliveryId);
      // Delivered already (a duplicate job), or its subscription is gone with it.
      if (!delivery || delivery.state === "delivered") return;
      const hook = await webhooks.get(delivery.webhookId);
      if (!hook) return;
      const body = await bodyOf(delivery);
      const attempt = await webhooks.startAttempt(delivery.id, clock.now());
      const answer = await send(hook, delivery.id, body, ctx.signal);
      const ok = answer.error === null;
      const state = ok ? "delivered" : ctx.attempt >= deps.attempts ? "dead" : "pending";
      await webhooks.finishAttempt(delivery.id, attempt, {
        finishedAt: clock.now(), responseStatus: answer.status, error: answer.error, responseBody: answer.body, state,
      });
      if (ok) return;
      logger.info({ deliveryId, webhookId: hook.id, attempt, error: answer.error }, "webhook delivery failed");
      throw new Error(`webhook delivery ${deliveryId} to ${new URL(hook.url).host}: ${answer.error}`);
    },

    /** Queues the jobs of outbox rows not queued yet; returns how many. */
    async relay(limit = 100): Promise<number> {
      const ids = await webhooks.unqueued(limit);
      const queued: string[] = [];
      try {
        for (const deliveryId of ids) {
          await deps.queue.enqueue("webhook-deliver", { deliveryId }, { key: deliveryId, maxAttempts: deps.attempts });
          queued.push(deliveryId);
        }
      } finally {
        // A row queued but not marked (a crash here) is queued again: the job skips a delivered one.
        await webhooks.markQueued(queued, clock.now());
      }
      return queued.length;
    },
  };
}

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>;

/** The first RESPONSE_EXCERPT_BYTES of a body, read no further; the connection is then closed. */
async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_EXCERPT_BYTES) break;
    }
  } finally {
    body.destroy();
  }
  // A character cut in half at the limit is dropped rather than shown as U+FFFD.
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString("utf8").replace(/\uFFFD$/, "");
}
