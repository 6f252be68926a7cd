import type { Principal } from "../domain/access.js";

/**
 * Turns a bearer token into the principal it was issued to. A token that is present but
 * invalid or expired is refused (AppError `invalid_token`); it never means anonymous.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
