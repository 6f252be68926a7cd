import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { AppError } from "../domain/errors.js";
import type { Principal } from "../domain/access.js";
import type { TokenVerifier } from "../ports/token-verifier.js";

/**
 * Bearer tokens: HS256 JWTs with `sub` (the principal), optional `groups` and
 * `role: "admin"`. A token that is present but invalid or expired is refused (401); it
 * never falls back to anonymous.
 */
export interface Tokens extends TokenVerifier {
  sign(claims: { sub: string; admin?: boolean; groups?: string[] }, ttlSeconds?: number): Promise<string>;
}

/** Verified tokens remembered (a client sends the same one on every request). */
const VERIFIED_CACHE_ENTRIES = 10_000;

export function createTokens(secret: string): Tokens {
  const key = new TextEncoder().encode(secret);
  // Signature checks through WebCrypto cost more than serving a cached variant; a token
  // that verified once stays valid until its `exp`, so remember the outcome until then.
  const verified = new Map<string, { principal: Principal; expiresAt: number }>();
  return {
    async sign({ sub, admin, groups }, ttlSeconds) {
      const jwt = new SignJWT({ ...(admin ? { role: "admin" } : {}), ...(groups?.length ? { groups } : {}) })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(sub)
        .setIssuedAt();
      if (ttlSeconds !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
      return jwt.sign(key);
    },
    async verify(token) {
      const known = verified.get(token);
      if (known && known.expiresAt > Date.now()) return known.principal;
      if (known) verified.delete(token);
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
        if (typeof payload.sub !== "string" || payload.sub === "") throw new AppError("invalid_token", "the token has no subject");
        const groups = Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === "string") : [];
        const principal: Principal = { sub: payload.sub, groups, admin: payload.role === "admin" };
        if (verified.size >= VERIFIED_CACHE_ENTRIES) verified.delete(verified.keys().next().value!);
        verified.set(token, { principal, expiresAt: payload.exp === undefined ? Infinity : payload.exp * 1000 });
        return principal;
      } catch (error) {
        if (error instanceof AppError) throw error;
        const expired = error instanceof joseErrors.JWTExpired;
        throw new AppError("invalid_token", expired ? "the token has expired" : "the token is not valid");
      }
    },
  };
}
