import { IllegalTransitionError } from "./errors.js";

/**
 * The asset state machine (DESIGN §4). The database stores the state; this module is the
 * only place that decides which changes are legal. Repositories apply a transition with a
 * compare-and-set on the current state, so a lost race surfaces as a conflict, not a silent
 * overwrite.
 */
export const ASSET_STATUSES = ["pending", "uploaded", "verified", "ready", "failed", "quarantined", "deleted"] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];

const EDGES: Readonly<Record<AssetStatus, readonly AssetStatus[]>> = {
  pending: ["uploaded", "failed", "deleted"],
  uploaded: ["verified", "failed", "quarantined", "deleted"],
  verified: ["ready", "failed", "quarantined", "deleted"],
  ready: ["failed", "deleted"],
  failed: ["deleted"],
  quarantined: ["deleted"],
  deleted: [],
};

export function isAssetStatus(value: string): value is AssetStatus {
  return (ASSET_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: AssetStatus, to: AssetStatus): boolean {
  return EDGES[from].includes(to);
}

export function assertTransition(from: AssetStatus, to: AssetStatus, assetId?: string): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, assetId);
}

/** States in which the stored bytes are known good and may be served. */
export function isServable(status: AssetStatus): boolean {
  return status === "verified" || status === "ready";
}

export interface Failure {
  code: string;
  message: string;
}
