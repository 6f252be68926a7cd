import { createHash, randomBytes } from "node:crypto";
import { AppError, InvalidParameterError } from "../domain/errors.js";
import type { Caller } from "../domain/access.js";
import type { Clock } from "../ports/clock.js";
import type { LoginCodeRepo } from "../ports/repos.js";
import type { TokenSigner } from "../ports/token-verifier.js";

/** A sign-in link works this long after it is made. */
export const LOGIN_CODE_TTL_MS = 10 * 60_000;
/** The session token a code is exchanged for: a working day, not the 30 days of a minted token. */
export const LOGIN_SESSION_TTL_SECONDS = 12 * 3600;
/** 32 random bytes (256 bits), base64url: 43 characters. Anything much longer is not one of ours. */
const CODE_BYTES = 32;
const MAX_CODE_LENGTH = 128;
const MAX_SUB_LENGTH = 256;

export interface LoginCodeServiceDeps {
  repo: LoginCodeRepo;
  tokens: TokenSigner;
  clock: Clock;
}

export interface LoginCode {
  code: string;
  expiresAt: number;
}

export interface LoginSession {
  token: string;
  expiresAt: number;
  sub: string;
}

/** The fragment carries the code: browsers never send it, so it is in no access log. */
export function loginLink(baseUrl: string, code: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/#login=${code}`;
}

function hashOf(code: string): string {
  return createHash("sha256").update(code).digest("hex");
}

/**
 * One-time console sign-in. A code is random, kept only as its SHA-256 so the database
 * gives away nothing that signs in, valid LOGIN_CODE_TTL_MS, and redeemed at most once
 * by any process sharing the database: the redeem is one conditional update. Unknown,
 * used and expired codes get the same answer, so a refusal tells nothing about a code.
 */
export function createLoginCodeService(deps: LoginCodeServiceDeps) {
  const { repo, tokens, clock } = deps;

  /** In-process (the banner, `assetd login-link`): no caller to check. */
  async function create(principal: { sub: string; admin: boolean }): Promise<LoginCode> {
    if (principal.sub.length === 0 || principal.sub.length > MAX_SUB_LENGTH) {
      throw new InvalidParameterError("sub", `sub must be 1 to ${MAX_SUB_LENGTH} characters`);
    }
    const code = randomBytes(CODE_BYTES).toString("base64url");
    const now = clock.now();
    const expiresAt = now + LOGIN_CODE_TTL_MS;
    await repo.create({ codeHash: hashOf(code), sub: principal.sub, admin: principal.admin, createdAt: now, expiresAt });
    return { code, expiresAt };
  }

  /** The admin endpoint: for the caller itself, or another principal (`sub`, `admin`). */
  async function mint(caller: Caller, request: { sub?: string; admin?: boolean } = {}): Promise<LoginCode> {
    if (!caller?.admin) throw new AppError(caller ? "forbidden" : "unauthorized", "sign-in links need an admin token");
    const sub = request.sub ?? caller.sub;
    return create({ sub, admin: request.admin ?? (request.sub === undefined || request.sub === caller.sub) });
  }

  async function redeem(code: unknown): Promise<LoginSession> {
    const refused = new AppError("login_code_invalid", "this sign-in link is unknown, already used or expired; ask for a new one");
    if (typeof code !== "string" || code.length === 0 || code.length > MAX_CODE_LENGTH) throw refused;
    const now = clock.now();
    const principal = await repo.redeem(hashOf(code), now);
    if (!principal) throw refused;
    const token = await tokens.sign({ sub: principal.sub, admin: principal.admin }, LOGIN_SESSION_TTL_SECONDS);
    return { token, expiresAt: now + LOGIN_SESSION_TTL_SECONDS * 1000, sub: principal.sub };
  }

  return {
    create,
    mint,
    redeem,
    /** Drops codes expired for a day (part of the periodic sweep). */
    forgetExpired: (): Promise<number> => repo.forgetExpired(clock.now() - 24 * 3600_000),
  };
}

export type LoginCodeService = ReturnType<typeof createLoginCodeService>;
