import type { Kysely, Selectable } from "kysely";
import type { WebhookEvent } from "../../domain/webhooks.js";
import type { AttemptRow, DeliveryRow, DeliveryState, WebhookRepo, WebhookRow } from "../../ports/webhooks.js";
import type { Database, WebhookAttemptTable, WebhookDeliveryTable, WebhookTable } from "../schema.js";

/** Subscriptions and their delivery outbox (migration 008); the outbox rows are written by asset-events.ts. */
export function createWebhookRepo(db: Kysely<Database>): WebhookRepo {
  return {
    async create(row) {
      await db.insertInto("webhook").values({
        id: row.id, principal: row.principal, owner: row.owner, url: row.url,
        events: JSON.stringify(row.events), secret: row.secret, created_at: row.createdAt,
      }).execute();
    },

    async get(id) {
      const row = await db.selectFrom("webhook").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toWebhook(row);
    },

    async listBy(principal) {
      const rows = await db.selectFrom("webhook").selectAll().where("principal", "=", principal).orderBy("id").execute();
      return rows.map(toWebhook);
    },

    delete(id) {
      // Explicit rather than by cascade: SQLite enforces foreign keys only when asked to.
      return db.transaction().execute(async (trx) => {
        const deliveries = trx.selectFrom("webhook_delivery").select("id").where("webhook_id", "=", id);
        await trx.deleteFrom("webhook_attempt").where("delivery_id", "in", deliveries).execute();
        await trx.deleteFrom("webhook_delivery").where("webhook_id", "=", id).execute();
        const result = await trx.deleteFrom("webhook").where("id", "=", id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      });
    },

    async delivery(id) {
      const row = await db.selectFrom("webhook_delivery").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toDelivery(row);
    },

    async deliveries(webhookId, limit) {
      const rows = await db.selectFrom("webhook_delivery").selectAll().where("webhook_id", "=", webhookId)
        .orderBy("id", "desc").limit(Math.max(0, Math.trunc(limit))).execute();
      if (rows.length === 0) return [];
      const attempts = await db.selectFrom("webhook_attempt").selectAll().where("delivery_id", "in", rows.map((r) => r.id))
        .orderBy("delivery_id").orderBy("attempt").execute();
      return rows.map((row) => ({
        ...toDelivery(row), attemptLog: attempts.filter((a) => a.delivery_id === row.id).map(toAttempt),
      }));
    },

    async unqueued(limit) {
      const rows = await db.selectFrom("webhook_delivery").select("id").where("enqueued_at", "is", null)
        .orderBy("id").limit(Math.max(0, Math.trunc(limit))).execute();
      return rows.map((r) => r.id);
    },

    async markQueued(ids, at) {
      if (ids.length === 0) return;
      await db.updateTable("webhook_delivery").set({ enqueued_at: at }).where("id", "in", [...ids]).where("enqueued_at", "is", null).execute();
    },

    async fixBody(id, body) {
      await db.updateTable("webhook_delivery").set({ body }).where("id", "=", id).where("body", "is", null).execute();
      const row = await db.selectFrom("webhook_delivery").select("body").where("id", "=", id).executeTakeFirst();
      return row?.body ?? body;
    },

    async startAttempt(id, at) {
      return db.transaction().execute(async (trx) => {
        const row = await trx.updateTable("webhook_delivery")
          .set((eb) => ({ attempts: eb("attempts", "+", 1), state: "pending", updated_at: at }))
          .where("id", "=", id).returning("attempts").executeTakeFirstOrThrow();
        const attempt = Number(row.attempts);
        await trx.insertInto("webhook_attempt").values({ delivery_id: id, attempt, started_at: at }).execute();
        return attempt;
      });
    },

    async finishAttempt(id, attempt, outcome) {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable("webhook_attempt").set({
          finished_at: outcome.finishedAt, response_status: outcome.responseStatus, error: outcome.error, response_body: outcome.responseBody,
        }).where("delivery_id", "=", id).where("attempt", "=", attempt).execute();
        await trx.updateTable("webhook_delivery").set({ state: outcome.state, updated_at: outcome.finishedAt })
          .where("id", "=", id).where("attempts", "=", attempt).execute();
      });
    },

    async replay(id, at) {
      const result = await db.updateTable("webhook_delivery").set({ state: "pending", enqueued_at: null, updated_at: at })
        .where("id", "=", id).where("state", "in", ["delivered", "dead"]).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

function toWebhook(row: Selectable<WebhookTable>): WebhookRow {
  return {
    id: row.id, principal: row.principal, owner: row.owner, url: row.url,
    events: JSON.parse(row.events) as WebhookEvent[], secret: row.secret, createdAt: Number(row.created_at),
  };
}

function toDelivery(row: Selectable<WebhookDeliveryTable>): DeliveryRow {
  return {
    id: row.id, webhookId: row.webhook_id, type: row.event_type as WebhookEvent, assetId: row.asset_id, eventAt: Number(row.event_at),
    state: row.state as DeliveryState, attempts: Number(row.attempts), body: row.body,
    createdAt: Number(row.created_at), updatedAt: Number(row.updated_at),
  };
}

function toAttempt(row: Selectable<WebhookAttemptTable>): AttemptRow {
  return {
    attempt: Number(row.attempt), startedAt: Number(row.started_at), finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    responseStatus: row.response_status === null ? null : Number(row.response_status), error: row.error, responseBody: row.response_body,
  };
}
