import { createTokens, secretKeyId } from "../auth/jwt.js";
import { readSecret, secretPath } from "../auth/secret.js";
import { loadConfig, type Config } from "../config/index.js";
import { migrate, openDatabase } from "../db/connect.js";
import { createRepos } from "../db/repos.js";
import type { Scope } from "../domain/access.js";
import { announceRevocation } from "../main.js";

/** Thirty days: tokens expire unless asked not to. */
export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export interface TokenOptions {
  sub?: string;
  admin: boolean;
  group?: string[];
  scope?: Scope[];
  /** Seconds; false: no expiry (`--no-expiry`). */
  ttl?: number;
  expiry: boolean;
  revoke?: string;
}

/**
 * `assetd token`: mints a token with the service's own secret, or (`--revoke`) refuses one
 * from now on. Never invents a secret: a token signed with a secret the server does not
 * have would only be refused later, far from the mistake.
 */
export async function tokenCommand(options: TokenOptions): Promise<void> {
  const config = loadConfig();
  const secret = config.jwtSecret ?? (await readSecret(config.dataDir));
  if (!secret) {
    throw new Error(
      `no token secret: ASSETD_JWT_SECRET is unset and ${secretPath(config.dataDir)} does not exist. ` +
      "Run this with the server's ASSETD_DATA_DIR (or its ASSETD_JWT_SECRET), or start the server once to create it.",
    );
  }
  // Which secret signs matters when a token is refused later: say where it came from.
  const source = config.jwtSecret ? "ASSETD_JWT_SECRET" : secretPath(config.dataDir);
  process.stderr.write(`using the token secret from ${source} (key ${secretKeyId(secret)})\n`);
  if (options.revoke !== undefined) return revoke(config, secret, options.revoke);
  if (!options.sub) throw new Error("--sub <principal> is required to mint a token");
  const ttl = options.expiry ? (options.ttl ?? DEFAULT_TOKEN_TTL_SECONDS) : undefined;
  const token = await createTokens(secret).sign({
    sub: options.sub, admin: options.admin, groups: options.group, ...(options.scope ? { scopes: options.scope } : {}),
  }, ttl);
  process.stdout.write(`${token}\n`);
}

/** `target` is a token (its jti and expiry are read from it) or a bare jti. */
async function revoke(config: Config, secret: string, target: string): Promise<void> {
  let jti = target;
  let expiresAt: number | null = null;
  if (target.split(".").length === 3) {
    const identified = await createTokens(secret).identify(target);
    if (!identified.jti) throw new Error("this token has no jti and cannot be revoked; rotate ASSETD_JWT_SECRET instead");
    jti = identified.jti;
    expiresAt = identified.expiresAt;
  }
  const database = await openDatabase(config.databaseUrl);
  try {
    await migrate(database.db);
    await createRepos(database.db, database.dialect).tokens.revoke(jti, expiresAt, Date.now());
    await announceRevocation(config, jti);
    process.stdout.write(`revoked ${jti}\n`);
  } finally {
    await database.close();
  }
}
