import type { WebhookEvent } from "../domain/webhooks.js";

/** A subscription (DESIGN §10). `owner` is whose events; `principal` who manages it. */
export interface WebhookRow {
  id: string;
  principal: string;
  /** An owner's principal, or `*` for every owner. */
  owner: string;
  url: string;
  events: WebhookEvent[];
  secret: string;
  createdAt: number;
}

export type DeliveryState = "pending" | "delivered" | "dead";

export interface DeliveryRow {
  id: string;
  webhookId: string;
  type: WebhookEvent;
  assetId: string;
  /** When the state change happened (ms). */
  eventAt: number;
  state: DeliveryState;
  /** Attempts started so far. */
  attempts: number;
  /** The JSON sent, fixed at the first attempt; null before it. */
  body: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface AttemptRow {
  attempt: number;
  startedAt: number;
  finishedAt: number | null;
  /** The receiver's status code; null when no answer came (refused, unreachable, timed out). */
  responseStatus: number | null;
  error: string | null;
  /** At most 1 KiB of the receiver's answer. */
  responseBody: string | null;
}

export interface AttemptOutcome {
  finishedAt: number;
  responseStatus: number | null;
  error: string | null;
  responseBody: string | null;
  /** The delivery's state from now on. */
  state: DeliveryState;
}

/**
 * Subscriptions and their outbox. Delivery rows are written by the asset repositories in
 * the transaction of each state change; this port reads and advances them.
 */
export interface WebhookRepo {
  create(row: WebhookRow): Promise<void>;
  get(id: string): Promise<WebhookRow | undefined>;
  /** The subscriptions `principal` made, oldest first. */
  listBy(principal: string): Promise<WebhookRow[]>;
  /** Removes the subscription with its deliveries and attempts; false when there was none. */
  delete(id: string): Promise<boolean>;

  delivery(id: string): Promise<DeliveryRow | undefined>;
  /** A subscription's deliveries, newest first, with their attempts in order. */
  deliveries(webhookId: string, limit: number): Promise<Array<DeliveryRow & { attemptLog: AttemptRow[] }>>;
  /** Up to `limit` deliveries whose job is still to be queued, oldest first. */
  unqueued(limit: number): Promise<string[]>;
  markQueued(ids: readonly string[], at: number): Promise<void>;
  /** Stores the body unless one is stored already; returns the body to send. */
  fixBody(id: string, body: string): Promise<string>;
  /** Counts an attempt as started (state back to pending) and returns its number. */
  startAttempt(id: string, at: number): Promise<number>;
  finishAttempt(id: string, attempt: number, outcome: AttemptOutcome): Promise<void>;
  /** A delivered or dead delivery sent again: back to pending and to be queued. False unless it was delivered or dead. */
  replay(id: string, at: number): Promise<boolean>;
}
