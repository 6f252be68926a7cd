import type { ColumnType, Generated } from "kysely";

/**
 * The metadata database as Kysely sees it (DESIGN §3). Types are chosen so that one
 * migration runs on SQLite and PostgreSQL: times are epoch milliseconds in `bigint`
 * columns, booleans are integers 0/1 and JSON is text. PostgreSQL's int8 is parsed to a JS
 * number by the pool (see dialect/postgres.ts), so both dialects hand back numbers.
 *
 * Row mapping to the camelCase port types lives in rows.ts.
 */

/** 0 or 1: SQLite has no boolean type and PostgreSQL's would not round-trip through it. */
export type IntBool = 0 | 1;

/** A column with a database default: optional on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface BlobTable {
  sha256: string;
  size: number;
  storage_key: string;
  sniffed_type: string;
  refcount: number;
  tier: Defaulted<"hot" | "cold">;
  created_at: number;
  last_verified_at: number | null;
  replicated: Defaulted<IntBool>;
  /** live | collecting | gone (migration 005). */
  state: Defaulted<BlobState>;
  /** The incarnation of this content; each has its own raw object key. */
  generation: Defaulted<number>;
  /** When the refcount last fell to 0; NULL while referenced. */
  released_at: Defaulted<number | null>;
  /** Recorded in batches; NULL until the first recorded read. */
  last_read_at: Defaulted<number | null>;
}

export type BlobState = "live" | "collecting" | "gone";

export interface AssetTable {
  id: string;
  owner: string;
  blob_sha256: string | null;
  filename: string;
  declared_type: string | null;
  content_type: string | null;
  kind: string;
  size: number | null;
  status: string;
  failure_code: string | null;
  failure_message: string | null;
  public: IntBool;
  /** JSON text. */
  meta: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** The status before deletion, while restorable (migration 005). */
  trashed_from: Defaulted<string | null>;
  /** When the trash entry ended and the content reference was released. */
  purged_at: Defaulted<number | null>;
  /**
   * `meta.phash` as a signed 64-bit integer (migration 002), written as a BigInt. Both
   * drivers read int8 back as a JS number, which drops low bits: compare it in SQL
   * (dialect `hammingDistance`) and take the value from `meta`.
   */
  phash: ColumnType<number | null, bigint | null | undefined, bigint | null>;
}

export interface AssetTagTable {
  asset_id: string;
  key: string;
  value: string;
}

export interface AssetAclTable {
  asset_id: string;
  /** A user id, `group:<name>` or `*`. */
  principal: string;
  /** read | write | delete */
  permission: string;
  created_at: number;
}

export interface RevokedTokenTable {
  jti: string;
  revoked_at: number;
  /** The token's own `exp` (ms); NULL when it had none. */
  expires_at: number | null;
}

export interface AssetEventTable {
  id: Generated<number>;
  asset_id: string;
  from_status: string | null;
  to_status: string;
  reason: string;
  at: number;
}

export interface VariantTable {
  cache_key: string;
  blob_sha256: string;
  recipe: string;
  storage_key: string;
  content_type: string;
  size: number;
  created_at: number;
  last_access_at: number;
  hits: number;
  /** The variant this one was derived from (an intermediate rung); null: from the original. */
  parent: string | null;
}

export interface JobTable {
  id: string;
  name: string;
  /** Idempotency key; unique among waiting/active jobs of one name (partial index). */
  key: string | null;
  /** JSON text. */
  payload: string;
  state: string;
  attempts: number;
  max_attempts: number;
  run_at: number;
  lease_until: number | null;
  /** `<workerId>/<claim token>`: who holds the lease, so a late finisher cannot overwrite. */
  lease_owner: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface UploadTable {
  asset_id: string;
  owner: string;
  kind: string;
  staging_key: string;
  content_type: string;
  expected_size: number;
  expected_sha256: string | null;
  multipart_id: string | null;
  part_size: number | null;
  reserved_bytes: number;
  expires_at: number;
  created_at: number;
}

export interface QuotaTable {
  owner: string;
  /** NULL: the configured default applies. */
  max_bytes: number | null;
  used_bytes: Defaulted<number>;
  reserved_bytes: Defaulted<number>;
}

export interface StatCounterTable {
  name: string;
  value: Defaulted<number>;
}

export interface MaintenanceRunTable {
  name: string;
  holder: string | null;
  lease_until: Defaulted<number>;
  started_at: Defaulted<number>;
  finished_at: number | null;
  outcome: string | null;
  /** JSON text. */
  report: string | null;
}

export interface WebhookTable {
  id: string;
  principal: string;
  /** `*`: every owner's events. */
  owner: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  secret: string;
  created_at: number;
}

export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  event_type: string;
  asset_id: string;
  event_at: number;
  /** pending | delivered | dead */
  state: Defaulted<string>;
  attempts: Defaulted<number>;
  body: string | null;
  enqueued_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookAttemptTable {
  delivery_id: string;
  attempt: number;
  started_at: number;
  finished_at: number | null;
  response_status: number | null;
  error: string | null;
  response_body: string | null;
}

/** Requests per owner, asset kind, canonical recipe and epoch day (migration 010). */
export interface RecipeDemandTable {
  owner: string;
  kind: string;
  recipe: string;
  day: number;
  requests: number;
}

/** A variant a prewarm rendered; `requested_at`: its first request after that (migration 010). */
export interface PrewarmVariantTable {
  cache_key: string;
  asset_id: string;
  owner: string;
  kind: string;
  recipe: string;
  rendered_at: number;
  requested_at: number | null;
}

/** A one-time console sign-in code, kept as its SHA-256 (migration 011). */
export interface LoginCodeTable {
  code_hash: string;
  sub: string;
  admin: IntBool;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface Database {
  blob: BlobTable;
  asset: AssetTable;
  asset_tag: AssetTagTable;
  asset_acl: AssetAclTable;
  revoked_token: RevokedTokenTable;
  asset_event: AssetEventTable;
  variant: VariantTable;
  job: JobTable;
  upload: UploadTable;
  quota: QuotaTable;
  stat_counter: StatCounterTable;
  maintenance_run: MaintenanceRunTable;
  webhook: WebhookTable;
  webhook_delivery: WebhookDeliveryTable;
  webhook_attempt: WebhookAttemptTable;
  recipe_demand: RecipeDemandTable;
  prewarm_variant: PrewarmVariantTable;
  login_code: LoginCodeTable;
}
