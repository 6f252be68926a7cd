import type { Kysely } from "kysely";
import { newAssetId } from "../../domain/ids.js";
import type { AssetStatus } from "../../domain/states.js";
import { ALL_OWNERS, eventOf } from "../../domain/webhooks.js";
import type { Database } from "../schema.js";

export interface RecordedEvent {
  from: AssetStatus | null;
  to: AssetStatus;
  reason: string;
  at: number;
}

/**
 * Appends state changes to an asset's event log and, in the same transaction, one outbox
 * row per webhook subscribed to the change (the owner's and every `*` subscription). Every
 * state change goes through here, so a committed change always has its notifications and
 * a rolled-back one never has any; a relay queues the rows' jobs after commit
 * (services/webhook-relay.ts).
 */
export async function recordEvents(
  trx: Kysely<Database>,
  asset: { id: string; owner: string },
  events: readonly RecordedEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto("asset_event")
    .values(events.map((e) => ({ asset_id: asset.id, from_status: e.from, to_status: e.to, reason: e.reason, at: e.at })))
    .execute();
  const notable = events.flatMap((e) => {
    const type = eventOf(e.from, e.to);
    return type ? [{ type, at: e.at }] : [];
  });
  if (notable.length === 0) return;
  const hooks = await trx.selectFrom("webhook").select(["id", "events"]).where("owner", "in", [asset.owner, ALL_OWNERS]).execute();
  const rows = notable.flatMap(({ type, at }) => hooks
    .filter((hook) => (JSON.parse(hook.events) as string[]).includes(type))
    .map((hook) => ({
      id: newAssetId(at), webhook_id: hook.id, event_type: type, asset_id: asset.id, event_at: at, created_at: at, updated_at: at,
    })));
  if (rows.length > 0) await trx.insertInto("webhook_delivery").values(rows).execute();
}
