import { integer, type Read } from "./values.js";

/** Webhook deliveries (DESIGN §10): how often one is tried and how long one try may take. */
export interface WebhookConfig {
  /** ASSETD_WEBHOOK_ATTEMPTS: tries per delivery before it is dead-lettered. */
  attempts: number;
  /** ASSETD_WEBHOOK_TIMEOUT_MS: one try, connecting and the receiver's answer included. */
  timeoutMs: number;
}

export function webhookConfig(read: Read): WebhookConfig {
  return Object.freeze({
    attempts: integer(read, "ASSETD_WEBHOOK_ATTEMPTS", 8, 1, 30),
    timeoutMs: integer(read, "ASSETD_WEBHOOK_TIMEOUT_MS", 10_000, 100, 120_000),
  });
}
