import { AppError, InvalidParameterError } from "../domain/errors.js";
import type { Caller } from "../domain/access.js";
import type { Broadcast } from "../ports/broadcast.js";
import type { Clock } from "../ports/clock.js";
import type { TokenRepo } from "../ports/repos.js";
import type { TokenIdentifier } from "../ports/token-verifier.js";

export interface TokenServiceDeps {
  repo: TokenRepo;
  identifier: TokenIdentifier;
  clock: Clock;
  /** This process's revocation answers, told at once about revocations made here. */
  revocations?: RevocationCheck;
}

/** What to refuse: a token id, or the token itself (whose expiry then bounds the record). */
export type RevokeTarget = { jti: string } | { token: string };

/** Token ids are UUIDs; anything far longer is not one of ours. */
export const MAX_JTI_LENGTH = 128;

/** Where revocations are announced to every process. */
export const REVOCATION_TOPIC = "token-revoked";
/** With announcements, how long a "not revoked" answer is reused if one were lost. */
export const REVOCATION_CACHE_MS = 60_000;
const REVOCATION_CACHE_ENTRIES = 10_000;

export interface RevocationCheck {
  isRevoked(jti: string): Promise<boolean>;
  /** A revocation made in this process: refused here at once, and announced to the others. */
  revoked(jti: string): Promise<void>;
}

/**
 * The hot-path revocation check. With a `Broadcast` (Redis at scale) a token's "not
 * revoked" answer is kept in memory and every revocation is announced, so each process
 * drops that answer the moment a token is revoked anywhere; after a lost connection the
 * whole cache is dropped, and no answer lives longer than REVOCATION_CACHE_MS. Without one
 * (the embedded default, where other processes can only share the SQLite file) every
 * request asks the database: one primary-key read on a local file.
 */
export function createRevocationCheck(
  repo: Pick<TokenRepo, "isRevoked">, clock: Clock, broadcast?: Pick<Broadcast, "publish">,
): RevocationCheck & { announced(jti: string): void; forgetAll(): void } {
  const answers = new Map<string, { revoked: boolean; until: number }>();
  const remember = (jti: string, revoked: boolean) => {
    if (answers.size >= REVOCATION_CACHE_ENTRIES && !answers.has(jti)) answers.delete(answers.keys().next().value!);
    answers.set(jti, { revoked, until: revoked ? Infinity : clock.now() + REVOCATION_CACHE_MS });
  };
  return {
    async isRevoked(jti) {
      if (!broadcast) return repo.isRevoked(jti);
      const known = answers.get(jti);
      if (known && known.until > clock.now()) return known.revoked;
      const revoked = await repo.isRevoked(jti);
      remember(jti, revoked);
      return revoked;
    },
    async revoked(jti) {
      remember(jti, true);
      await broadcast?.publish(REVOCATION_TOPIC, jti);
    },
    /** A revocation announced by another process. */
    announced: (jti) => remember(jti, true),
    forgetAll: () => answers.clear(),
  };
}

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
      await deps.revocations?.revoked(target.jti);
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
    await deps.revocations?.revoked(identified.jti);
    return { jti: identified.jti };
  }

  return {
    revoke,
    /** Forgets revocations of tokens that have expired anyway (part of the periodic sweep). */
    forgetExpired: (): Promise<number> => repo.forgetExpired(clock.now()),
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
