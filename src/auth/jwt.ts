import { createHash, randomUUID } from "node:crypto";
import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors } from "jose";
import { AppError } from "../domain/errors.js";
import { parseScopes, type Principal, type Scope } from "../domain/access.js";
import type { TokenIdentifier, TokenVerifier } from "../ports/token-verifier.js";

/**
 * Bearer tokens: HS256 JWTs with `sub` (the principal), optional `groups`, `role: "admin"`,
 * `scope` (space-separated, DESIGN §10) and a `jti` by which a token can be revoked. A
 * token that is present but invalid, expired or revoked is refused (401); it never falls
 * back to anonymous. The header's `kid` names the secret (a hash, not the secret), so a
 * token minted with another secret is told apart from a forged one.
 */
export interface TokenClaims {
  sub: string;
  admin?: boolean;
  groups?: string[];
  scopes?: readonly Scope[];
}

export interface Tokens extends TokenVerifier, TokenIdentifier {
  /** `ttlSeconds` undefined: no expiry. */
  sign(claims: TokenClaims, ttlSeconds?: number): Promise<string>;
}

export interface TokenOptions {
  /** Asked on every use of a token with a `jti`, cached or not. */
  isRevoked?: (jti: string) => Promise<boolean>;
}

/** Verified tokens remembered (a client sends the same one on every request). */
const VERIFIED_CACHE_ENTRIES = 10_000;

/** A short public name for a secret: the first 12 hex digits of its SHA-256. */
export function secretKeyId(secret: string): string {
  return createHash("sha256").update(`assetd jwt key id\u0000${secret}`).digest("hex").slice(0, 12);
}

interface Verified {
  principal: Principal;
  jti: string | undefined;
  expiresAt: number;
}

export function createTokens(secret: string, options: TokenOptions = {}): Tokens {
  const key = new TextEncoder().encode(secret);
  const kid = secretKeyId(secret);
  // Signature checks through WebCrypto cost more than serving a cached variant; a token
  // that verified once stays valid until its `exp`, so remember the outcome until then.
  const verified = new Map<string, Verified>();

  async function check(token: string): Promise<Verified> {
    const known = verified.get(token);
    if (known && known.expiresAt > Date.now()) return known;
    if (known) verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
      if (typeof payload.sub !== "string" || payload.sub === "") throw new AppError("invalid_token", "the token has no subject");
      const groups = Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === "string") : [];
      const scopes = payload.scope === undefined ? undefined : parseScopes(payload.scope);
      const principal: Principal = {
        sub: payload.sub, groups, admin: payload.role === "admin" && (scopes === undefined || scopes.includes("admin")),
        ...(scopes !== undefined ? { scopes } : {}),
      };
      const entry = { principal, jti: typeof payload.jti === "string" ? payload.jti : undefined, expiresAt: payload.exp === undefined ? Infinity : payload.exp * 1000 };
      if (verified.size >= VERIFIED_CACHE_ENTRIES) verified.delete(verified.keys().next().value!);
      verified.set(token, entry);
      return entry;
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AppError("invalid_token", "the token has expired");
      throw new AppError("invalid_token", foreignSecret(token) ?? "the token is not valid");
    }
  }

  /** A well-formed token whose `kid` names another secret: say so, it is the usual mistake. */
  function foreignSecret(token: string): string | undefined {
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.kid === "string" && header.kid !== kid) {
        return `the token was signed with another secret (key ${header.kid}; this server's is ${kid}): ` +
          "mint tokens with this server's ASSETD_JWT_SECRET, or run `assetd token` with its data directory";
      }
    } catch {
      // not even a JWT
    }
    return undefined;
  }

  return {
    async sign({ sub, admin, groups, scopes }, ttlSeconds) {
      const jwt = new SignJWT({
        ...(admin ? { role: "admin" } : {}), ...(groups?.length ? { groups } : {}), ...(scopes ? { scope: scopes.join(" ") } : {}),
      })
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
        .setSubject(sub)
        .setJti(randomUUID())
        .setIssuedAt();
      if (ttlSeconds !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
      return jwt.sign(key);
    },
    async verify(token) {
      const entry = await check(token);
      if (entry.jti !== undefined && options.isRevoked && (await options.isRevoked(entry.jti))) {
        throw new AppError("token_revoked", "this token has been revoked");
      }
      return entry.principal;
    },
    async identify(token) {
      const entry = await check(token);
      return { jti: entry.jti, expiresAt: Number.isFinite(entry.expiresAt) ? entry.expiresAt : null };
    },
  };
}
