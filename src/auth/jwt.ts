import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { AppError } from "../domain/errors.js";
import type { Principal } from "../domain/access.js";

/**
 * Bearer tokens: HS256 JWTs with `sub` (the principal), optional `groups` and
 * `role: "admin"`. A token that is present but invalid or expired is refused (401); it
 * never falls back to anonymous.
 */
export interface Tokens {
  sign(claims: { sub: string; admin?: boolean; groups?: string[] }, ttlSeconds?: number): Promise<string>;
  verify(token: string): Promise<Principal>;
}

export function createTokens(secret: string): Tokens {
  const key = new TextEncoder().encode(secret);
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
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
        if (typeof payload.sub !== "string" || payload.sub === "") throw new AppError("invalid_token", "the token has no subject");
        const groups = Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === "string") : [];
        return { sub: payload.sub, groups, admin: payload.role === "admin" };
      } catch (error) {
        if (error instanceof AppError) throw error;
        const expired = error instanceof joseErrors.JWTExpired;
        throw new AppError("invalid_token", expired ? "the token has expired" : "the token is not valid");
      }
    },
  };
}
