import { AppError } from "./errors.js";

/** Logical bytes per owner. `maxBytes` null: the configured default applies. */
export interface QuotaRow {
  owner: string;
  maxBytes: number | null;
  usedBytes: number;
  reservedBytes: number;
}

/** A quota as the API shows it: the limit that applies and where it comes from. */
export interface QuotaView {
  owner: string;
  maxBytes: number | null;
  source: "owner" | "unlimited" | "default";
  usedBytes: number;
  reservedBytes: number;
  availableBytes: number | null;
}

export function quotaView(row: QuotaRow, defaultMaxBytes: number | null): QuotaView {
  const maxBytes = row.maxBytes ?? defaultMaxBytes;
  return {
    owner: row.owner,
    maxBytes,
    source: row.maxBytes !== null ? "owner" : maxBytes === null ? "unlimited" : "default",
    usedBytes: row.usedBytes,
    reservedBytes: row.reservedBytes,
    availableBytes: maxBytes === null ? null : Math.max(0, maxBytes - row.usedBytes - row.reservedBytes),
  };
}

/** The `quota_exceeded` error for an upload of `bytes` that does not fit: it tells the caller their own quota. */
export function quotaExceeded(quota: QuotaRow, defaultMaxBytes: number | null, bytes: number): AppError {
  return new AppError("quota_exceeded", `an upload of ${bytes} bytes would exceed the owner's quota`, {
    maxBytes: quota.maxBytes ?? defaultMaxBytes,
    usedBytes: quota.usedBytes,
    reservedBytes: quota.reservedBytes,
  });
}
