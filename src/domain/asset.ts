import type { AssetKind } from "./media-types.js";
import type { AssetStatus, Failure } from "./states.js";

export type { Failure };

/**
 * The asset entity as every layer sees it. Times are epoch milliseconds. The database
 * stores these; the rules about them (access, servability, the state machine) sit beside
 * them in domain/.
 */

/** Extracted facts about an asset's content. Open-ended: engines add what they know. */
export type AssetMeta = Record<string, unknown>;

export interface AssetRow {
  id: string;
  owner: string;
  blobSha256: string | null;
  filename: string;
  declaredType: string | null;
  contentType: string | null;
  kind: AssetKind;
  size: number | null;
  status: AssetStatus;
  failure: Failure | null;
  public: boolean;
  meta: AssetMeta | null;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export type Asset = AssetRow;

/** One step of an asset's life, as its event log records it. */
export interface AssetEvent {
  assetId: string;
  from: AssetStatus | null;
  to: AssetStatus;
  reason: string;
  at: number;
}

/** Which assets a list asks for. */
export interface AssetFilter {
  status?: AssetStatus;
  kind?: AssetKind;
  /** All must match. */
  tags?: ReadonlyArray<readonly [string, string]>;
  owner?: string;
  /** Case-insensitive substring of the filename. */
  q?: string;
  createdAfter?: number;
  createdBefore?: number;
}

/**
 * Who is asking: admins see everything; others their own assets, public ones and those
 * granted (any permission) to one of `principals` (`*`, their id, `group:<name>`).
 */
export type Visibility = { kind: "all" } | { kind: "principal"; owner: string | null; principals: readonly string[] };
