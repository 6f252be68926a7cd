import type { Principal } from "../domain/access.js";

/**
 * Turns a bearer token into the principal it was issued to. A token that is present but
 * invalid or expired is refused (AppError `invalid_token`); it never means anonymous.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Reads a valid token's id and expiry (ms, null: none), revoked or not; for revocation. */
export interface TokenIdentifier {
  identify(token: string): Promise<{ jti: string | undefined; expiresAt: number | null }>;
}

/** Mints bearer tokens with the service's secret (auth/jwt.ts). */
export interface TokenSigner {
  sign(claims: { sub: string; admin?: boolean }, ttlSeconds?: number): Promise<string>;
}
