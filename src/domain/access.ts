import { AppError } from "./errors.js";
import { principalsOf } from "./grants.js";
import type { AssetRow, Visibility } from "./asset.js";

/**
 * Who is calling, and what they may see: owners and admins everything, others what the
 * asset's grants give their principals (grants.ts), anyone what is public.
 */
export interface Principal {
  sub: string;
  groups: readonly string[];
  admin: boolean;
  /** Present when the token narrows what it may do (DESIGN §10); absent: all its role allows. */
  scopes?: readonly Scope[];
}

/** Token scopes: `asset:write` includes reading; `admin` is needed for the admin role to count. */
export const SCOPES = ["asset:read", "asset:write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** A token's `scope` claim (space-separated); unknown scopes are ignored, not widened. */
export function parseScopes(claim: unknown): Scope[] {
  const words = typeof claim === "string" ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  return SCOPES.filter((scope) => words.includes(scope));
}

/** Whether the caller's token lets it change things (uploads, edits, deletes, grants). */
export function mayWrite(caller: Caller): boolean {
  return !caller?.scopes || caller.scopes.includes("asset:write") || caller.scopes.includes("admin");
}

/** null = anonymous. */
export type Caller = Principal | null;

/** Owners and admins see owner-only facts such as GPS coordinates. */
export function isOwnerView(caller: Caller, asset: AssetRow): boolean {
  return caller?.admin === true || caller?.sub === asset.owner;
}

/**
 * Whether the caller may manage a live asset as its owner (or an admin): its grants, who
 * may read it, its upload session. Other permissions come from `permissionsFor` in
 * grants.ts, which the asset service feeds with the caller's grants.
 */
export function canManage(caller: Caller, asset: AssetRow): boolean {
  return asset.status !== "deleted" && isOwnerView(caller, asset);
}

export function visibilityOf(caller: Caller): Visibility {
  return caller?.admin ? { kind: "all" } : { kind: "principal", owner: caller?.sub ?? null, principals: principalsOf(caller) };
}

/** The caller as a principal; anonymous callers are refused. */
export function requirePrincipalOf(caller: Caller): Principal {
  if (!caller) throw new AppError("unauthorized", "this needs a bearer token");
  return caller;
}
