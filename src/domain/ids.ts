import { decodeTime, monotonicFactory } from "ulid";

/**
 * Asset ids are ULIDs: 26 Crockford base32 characters, sortable by creation time, so
 * "newest first" is "largest id first" and cursors need nothing but the last id.
 */
const nextUlid = monotonicFactory();
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function newAssetId(now = Date.now()): string {
  return nextUlid(now);
}

export function isAssetId(value: string): boolean {
  return ULID.test(value);
}

/** When the asset was created (epoch ms), read from its id. */
export function assetIdTime(id: string): number {
  return decodeTime(id);
}
