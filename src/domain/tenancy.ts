import { createHash } from "node:crypto";

/**
 * Whether outputs derived from content (variants, HLS ladders) are shared by every owner of
 * the same bytes (`shared`, the default: one render, one ladder) or kept per owner
 * (`strict`, ASSETD_TENANT_ISOLATION): then nobody can learn from timing or cache state
 * that someone else holds or viewed the same content, at the cost of one copy of each
 * output per owner. Originals are deduplicated either way.
 */
export type TenantIsolation = "shared" | "strict";

/** The key derived outputs of `blobSha256` are filed under for `owner`: a sha256 hex either way. */
export function derivedContentKey(blobSha256: string, owner: string, isolation: TenantIsolation): string {
  if (isolation === "shared") return blobSha256;
  return createHash("sha256").update(`assetd tenant\u0000${owner}\u0000${blobSha256}`).digest("hex");
}
