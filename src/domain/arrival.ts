import type { AssetStatus } from "./states.js";

export interface StateChange {
  from: AssetStatus;
  to: AssetStatus;
  reason: string;
  at: number;
}

/**
 * The history of bytes that arrived and were checked: pending -> uploaded when the last
 * byte is durable, uploaded -> verified once hashed and sniffed. Direct uploads, tus and
 * completed upload sessions record the same two steps with the same words.
 */
export function arrivalEvents(facts: { bytes: number; contentType: string; receivedAt: number; verifiedAt: number }): StateChange[] {
  return [
    { from: "pending", to: "uploaded", reason: `${facts.bytes} bytes received`, at: facts.receivedAt },
    { from: "uploaded", to: "verified", reason: `sha256 computed, content sniffed as ${facts.contentType}`, at: facts.verifiedAt },
  ];
}
