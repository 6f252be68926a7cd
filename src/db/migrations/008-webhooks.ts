import type { Kysely, Migration } from "kysely";

/**
 * Webhooks (DESIGN §10): subscriptions, an outbox of deliveries and the log of attempts.
 *
 * `webhook.principal` is who made and manages the subscription; `webhook.owner` whose
 * assets' events it receives (`*`: every owner's, admins only). `events` is a JSON array.
 *
 * `webhook_delivery` is the outbox: one row per event and subscription, written in the
 * same transaction as the asset's state change (db/repos/asset-events.ts), so a crash
 * can neither lose a notification nor send one for a change that rolled back. `enqueued_at`
 * NULL marks rows whose `webhook-deliver` job is still to be queued; `body` is the JSON
 * sent, fixed at the first attempt so every retry carries the same bytes.
 *
 * `webhook_attempt` keeps each try: the status code or error, and at most 1 KiB of the
 * receiver's answer. Everything of a subscription goes when it is deleted.
 */
export const webhooks: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("webhook")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("principal", "text", (c) => c.notNull())
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("url", "text", (c) => c.notNull())
      .addColumn("events", "text", (c) => c.notNull())
      .addColumn("secret", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("webhook_owner").on("webhook").column("owner").execute();
    await db.schema.createIndex("webhook_principal").on("webhook").columns(["principal", "id"]).execute();

    await db.schema
      .createTable("webhook_delivery")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("webhook_id", "text", (c) => c.notNull().references("webhook.id").onDelete("cascade"))
      .addColumn("event_type", "text", (c) => c.notNull())
      .addColumn("asset_id", "text", (c) => c.notNull())
      .addColumn("event_at", "bigint", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull().defaultTo("pending"))
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("body", "text")
      .addColumn("enqueued_at", "bigint")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("webhook_delivery_webhook").on("webhook_delivery").columns(["webhook_id", "id"]).execute();
    await db.schema.createIndex("webhook_delivery_unqueued").on("webhook_delivery").columns(["enqueued_at", "id"]).execute();

    await db.schema
      .createTable("webhook_attempt")
      .addColumn("delivery_id", "text", (c) => c.notNull().references("webhook_delivery.id").onDelete("cascade"))
      .addColumn("attempt", "integer", (c) => c.notNull())
      .addColumn("started_at", "bigint", (c) => c.notNull())
      .addColumn("finished_at", "bigint")
      .addColumn("response_status", "integer")
      .addColumn("error", "text")
      .addColumn("response_body", "text")
      .addPrimaryKeyConstraint("webhook_attempt_pk", ["delivery_id", "attempt"])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("webhook_attempt").execute();
    await db.schema.dropTable("webhook_delivery").execute();
    await db.schema.dropTable("webhook").execute();
  },
};
