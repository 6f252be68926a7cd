import { randomBytes } from "node:crypto";
import type { Principal } from "../domain/access.js";
import { AppError } from "../domain/errors.js";
import type { FetchAllowList } from "../domain/fetch-guard.js";
import { newAssetId } from "../domain/ids.js";
import { ALL_OWNERS, checkEvents, checkWebhookUrl, formatSecret, SECRET_BYTES } from "../domain/webhooks.js";
import type { Clock } from "../ports/clock.js";
import type { AttemptRow, DeliveryRow, WebhookRepo, WebhookRow } from "../ports/webhooks.js";

export interface WebhookDeps {
  webhooks: WebhookRepo;
  clock: Clock;
  /** ASSETD_FETCH_ALLOW: the same guard as URL imports. */
  allow: FetchAllowList;
}

export interface SubscribeInput {
  url: string;
  events: readonly string[];
  /** Whose events: the caller's own by default; another owner or `*` for admins only. */
  owner?: string | undefined;
}

/**
 * Webhook subscriptions (DESIGN §10). A subscription is managed by the principal who made
 * it (and admins); anyone else is told it does not exist. The secret is shown once, in
 * the answer to its creation.
 */
export function createWebhookService(deps: WebhookDeps) {
  const { webhooks, clock } = deps;

  async function visible(caller: Principal, id: string): Promise<WebhookRow> {
    const hook = await webhooks.get(id);
    if (!hook || (hook.principal !== caller.sub && !caller.admin)) throw new AppError("not_found", "no such webhook");
    return hook;
  }

  return {
    async subscribe(caller: Principal, input: SubscribeInput) {
      const owner = input.owner ?? caller.sub;
      if (owner !== caller.sub && !caller.admin) {
        throw new AppError("forbidden", owner === ALL_OWNERS
          ? "only admins may subscribe to every owner's events" : "only admins may subscribe to another owner's events");
      }
      const url = checkWebhookUrl(input.url, deps.allow);
      const row: WebhookRow = {
        id: newAssetId(clock.now()), principal: caller.sub, owner, url: url.toString(),
        events: checkEvents(input.events), secret: formatSecret(randomBytes(SECRET_BYTES)), createdAt: clock.now(),
      };
      await webhooks.create(row);
      return { ...describe(row), secret: row.secret };
    },

    async list(caller: Principal) {
      return (await webhooks.listBy(caller.sub)).map(describe);
    },

    async get(caller: Principal, id: string) {
      return describe(await visible(caller, id));
    },

    async remove(caller: Principal, id: string): Promise<void> {
      await visible(caller, id);
      await webhooks.delete(id);
    },

    async deliveries(caller: Principal, id: string, limit: number) {
      await visible(caller, id);
      return (await webhooks.deliveries(id, limit)).map(({ attemptLog, ...delivery }) => ({
        ...describeDelivery(delivery), attempts: attemptLog.map(describeAttempt),
      }));
    },

    /** Sends a delivered or dead delivery again (same webhook-id and body, a fresh signature). */
    async replay(caller: Principal, id: string, deliveryId: string) {
      await visible(caller, id);
      const delivery = await webhooks.delivery(deliveryId);
      if (!delivery || delivery.webhookId !== id) throw new AppError("not_found", "no such delivery");
      if (!(await webhooks.replay(deliveryId, clock.now()))) {
        throw new AppError("state_conflict", "the delivery is still being tried", { state: delivery.state });
      }
      return describeDelivery({ ...delivery, state: "pending" });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

function describe(row: WebhookRow) {
  return { id: row.id, url: row.url, events: row.events, owner: row.owner, createdAt: new Date(row.createdAt).toISOString() };
}

function describeDelivery(row: DeliveryRow) {
  return {
    id: row.id, type: row.type, assetId: row.assetId, state: row.state, attemptCount: row.attempts,
    eventAt: new Date(row.eventAt).toISOString(), createdAt: new Date(row.createdAt).toISOString(), updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

function describeAttempt(row: AttemptRow) {
  return {
    attempt: row.attempt, startedAt: new Date(row.startedAt).toISOString(),
    finishedAt: row.finishedAt === null ? null : new Date(row.finishedAt).toISOString(),
    responseStatus: row.responseStatus, error: row.error, responseBody: row.responseBody,
  };
}
