import { InvalidParameterError } from "./errors.js";

/**
 * ACL grants (DESIGN §3 `asset_acl`, §10 "Access"). A grant gives one principal one
 * permission on one asset. Principals: a user id (a token's `sub`), `group:<name>`
 * (matched against the token's `groups`) or `*` (anyone, anonymous included).
 * `public: true` is exactly a `*` read grant.
 */
export const PERMISSIONS = ["read", "write", "delete"] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Grant {
  readonly principal: string;
  readonly permission: Permission;
}

export const ANYONE = "*";
export const PUBLIC_GRANT: Grant = { principal: ANYONE, permission: "read" };
/** More grants than this on one asset is a listing, not an ACL. */
export const MAX_GRANTS_PER_ASSET = 256;

const GROUP_PREFIX = "group:";
const MAX_PRINCIPAL_LENGTH = 256;

/** Everyone a caller acts as: `*`, their id and each of their groups. Anonymous: `*` only. */
export function principalsOf(caller: { readonly sub: string; readonly groups: readonly string[] } | null): string[] {
  if (!caller) return [ANYONE];
  return [ANYONE, caller.sub, ...caller.groups.map((group) => `${GROUP_PREFIX}${group}`)];
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === "string" && (PERMISSIONS as readonly string[]).includes(value);
}

/** A principal as a client wrote it, checked: `*`, `group:<name>` or a user id, no controls. */
export function parsePrincipal(value: unknown): string {
  if (typeof value !== "string" || value === "" || value.length > MAX_PRINCIPAL_LENGTH || /[\p{Cc}\p{Cf}\s]/u.test(value)) {
    throw new InvalidParameterError("principal", "principal must be a user id, group:<name> or *, without spaces or control characters");
  }
  if (value.startsWith(GROUP_PREFIX) && value.length === GROUP_PREFIX.length) {
    throw new InvalidParameterError("principal", "group: needs a group name");
  }
  return value;
}

export function parsePermission(value: unknown): Permission {
  if (!isPermission(value)) throw new InvalidParameterError("permission", `permission must be one of ${PERMISSIONS.join(", ")}`);
  return value;
}

/** A grant list as a client sent it: each checked, duplicates dropped, order kept. */
export function parseGrants(value: unknown): Grant[] {
  if (!Array.isArray(value)) throw new InvalidParameterError("grants", "grants must be an array of {principal, permission}");
  if (value.length > MAX_GRANTS_PER_ASSET) throw new InvalidParameterError("grants", `at most ${MAX_GRANTS_PER_ASSET} grants per asset`);
  const seen = new Set<string>();
  const grants: Grant[] = [];
  for (const item of value) {
    if (typeof item !== "object" || item === null) throw new InvalidParameterError("grants", "each grant is an object {principal, permission}");
    const record = item as Record<string, unknown>;
    const grant = { principal: parsePrincipal(record.principal), permission: parsePermission(record.permission) };
    const key = `${grant.principal}\u0000${grant.permission}`;
    if (seen.has(key)) continue;
    seen.add(key);
    grants.push(grant);
  }
  return grants;
}


/** The facts of an asset the access rule reads. */
export interface Guarded {
  readonly owner: string;
  readonly status: string;
  readonly public: boolean;
}

const ALL: ReadonlySet<Permission> = new Set(PERMISSIONS);
const NONE: ReadonlySet<Permission> = new Set();
const READ: ReadonlySet<Permission> = new Set(["read"]);

/**
 * The one access rule: what `caller` may do with `asset`, given the permissions its grants
 * give the caller's principals (`granted`, from `principalsOf`). Admins and owners may do
 * everything; a deleted asset is seen by admins only; `public` is the `*` read grant.
 * Write or delete without read still lets the caller see the asset (it could not act on
 * something it cannot find).
 */
export function permissionsFor(
  caller: { readonly sub: string; readonly admin: boolean } | null, asset: Guarded, granted: readonly Permission[],
): ReadonlySet<Permission> {
  if (asset.status === "deleted") return caller?.admin ? READ : NONE;
  if (caller?.admin || caller?.sub === asset.owner) return ALL;
  if (granted.length === 0) return asset.public ? READ : NONE;
  const permissions = new Set<Permission>(granted);
  permissions.add("read");
  return permissions;
}

/** The permissions `grants` give any of `principals` (what `AclRepo.permissionsOf` answers, from a grant list in hand). */
export function grantedTo(grants: readonly Grant[], principals: readonly string[]): Permission[] {
  const granted = new Set<Permission>();
  for (const grant of grants) if (principals.includes(grant.principal)) granted.add(grant.permission);
  return [...granted];
}
