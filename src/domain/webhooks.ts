import { createHmac, timingSafeEqual } from "node:crypto";
import ipaddr from "ipaddr.js";
import type { AssetStatus } from "./states.js";
import { AppError } from "./errors.js";
import { checkDestination, checkFetchUrl, hostAndPort, type FetchAllowList } from "./fetch-guard.js";

/**
 * Webhooks (DESIGN §10 "Interfaces and integrations"): which state changes are events,
 * and how a delivery is signed. Signatures follow Standard Webhooks
 * (https://www.standardwebhooks.com): `v1,` + base64 HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<body>`, keyed by the bytes the secret's base64 part
 * (after `whsec_`) decodes to, so a receiver's existing Standard Webhooks (or Svix)
 * library verifies what this service sends.
 */

export const WEBHOOK_EVENTS = ["asset.ready", "asset.failed", "asset.quarantined", "asset.deleted", "asset.restored"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Subscribes to every owner's events (admins only). */
export const ALL_OWNERS = "*";

export const SECRET_PREFIX = "whsec_";
/** Random bytes in a new secret: the spec asks for 24 to 64. */
export const SECRET_BYTES = 32;

/** The event a recorded state change is, if any (a purge, deleted → deleted, is none). */
export function eventOf(from: AssetStatus | null, to: AssetStatus): WebhookEvent | undefined {
  if (from === to) return undefined;
  if (from === "deleted") return "asset.restored";
  switch (to) {
    case "ready": return "asset.ready";
    case "failed": return "asset.failed";
    case "quarantined": return "asset.quarantined";
    case "deleted": return "asset.deleted";
    default: return undefined;
  }
}

/** A subscription's secret from fresh random bytes. */
export function formatSecret(random: Uint8Array): string {
  if (random.length < 24 || random.length > 64) throw new Error("a webhook secret needs 24 to 64 random bytes");
  return SECRET_PREFIX + Buffer.from(random).toString("base64");
}

function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
}

/** The `webhook-signature` header value for one attempt; `timestamp` in unix seconds. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** True when one of the header's space-separated `v1,` signatures matches (what a receiver does). */
export function verifyWebhook(secret: string, id: string, timestamp: number, body: string, header: string): boolean {
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body));
  return header.split(" ").some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * A target URL as a subscription may name it: http(s), no credentials, and (checked here,
 * before any name is resolved) no IP literal or `localhost` outside what the fetch guard
 * allows. Names are checked again on every delivery, after DNS resolution.
 */
export function checkWebhookUrl(raw: string, allow: FetchAllowList): URL {
  const url = checkFetchUrl(raw);
  const { host, port } = hostAndPort(url);
  if (ipaddr.isValid(host)) checkDestination(allow, host, port, host);
  // RFC 6761: localhost and its subdomains are loopback, whatever a resolver says.
  else if (host === "localhost" || host.endsWith(".localhost")) checkDestination(allow, host, port, "127.0.0.1");
  return url;
}

/** The JSON body of a delivery: `{type, timestamp, data: {asset}}`, serialised once and sent as is on every attempt. */
export function webhookBody(type: WebhookEvent, at: number, asset: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data: { asset } });
}

/** Refusal of an unknown event type at subscription time. */
export function checkEvents(events: readonly string[]): WebhookEvent[] {
  const unknown = events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0) {
    throw new AppError("invalid_parameter", `unknown event type ${unknown[0]}; known: ${WEBHOOK_EVENTS.join(", ")}`, { parameter: "events" });
  }
  return [...new Set(events)] as WebhookEvent[];
}
