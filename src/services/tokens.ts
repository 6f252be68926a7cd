import { AppError, InvalidParameterError } from "../domain/errors.js";
import type { Caller } from "../domain/access.js";
import type { Clock } from "../ports/clock.js";
import type { TokenRepo } from "../ports/repos.js";
import type { TokenIdentifier } from "../ports/token-verifier.js";

export interface TokenServiceDeps {
  repo: TokenRepo;
  identifier: TokenIdentifier;
  clock: Clock;
}

/** What to refuse: a token id, or the token itself (whose expiry then bounds the record). */
export type RevokeTarget = { jti: string } | { token: string };

/** Token ids are UUIDs; anything far longer is not one of ours. */
export const MAX_JTI_LENGTH = 128;

/** Revocation (DESIGN §10): a revoked token is refused from then on, by every API process. */
export function createTokenService(deps: TokenServiceDeps) {
  const { repo, identifier, clock } = deps;

  async function revoke(caller: Caller, target: RevokeTarget): Promise<{ jti: string }> {
    if (!caller?.admin) throw new AppError(caller ? "forbidden" : "unauthorized", "revoking tokens needs an admin token");
    if ("jti" in target) {
      if (target.jti.length === 0 || target.jti.length > MAX_JTI_LENGTH) {
        throw new InvalidParameterError("jti", `jti must be 1 to ${MAX_JTI_LENGTH} characters`);
      }
      await repo.revoke(target.jti, null, clock.now());
      return { jti: target.jti };
    }
    let identified: Awaited<ReturnType<TokenIdentifier["identify"]>>;
    try {
      identified = await identifier.identify(target.token);
    } catch (error) {
      // The caller's own credentials are fine: the token in the body is what was refused.
      if (error instanceof AppError) throw new InvalidParameterError("token", error.message);
      throw error;
    }
    if (!identified.jti) throw new InvalidParameterError("token", "this token has no jti and cannot be revoked; rotate the secret instead");
    await repo.revoke(identified.jti, identified.expiresAt, clock.now());
    return { jti: identified.jti };
  }

  return {
    revoke,
    /** Forgets revocations of tokens that have expired anyway (part of the periodic sweep). */
    forgetExpired: (): Promise<number> => repo.forgetExpired(clock.now()),
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
