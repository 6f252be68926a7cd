import type { Config } from "../config/index.js";
import { migrate, openDatabase } from "../db/connect.js";
import { createRepos } from "../db/repos.js";
import { systemClock } from "../ports/clock.js";
import { createLoginCodeService, loginLink } from "../services/login-codes.js";

export { loginLink };

/**
 * A one-time sign-in code written straight into the configured database, without a
 * runtime (`assetd login-link`). Only the code is stored here; the server that redeems it
 * signs the session token with its own secret.
 */
export async function createLoginCode(config: Config, principal: { sub: string; admin: boolean }): Promise<{ code: string; expiresAt: number }> {
  const database = await openDatabase(config.databaseUrl);
  try {
    await migrate(database.db);
    const service = createLoginCodeService({
      repo: createRepos(database.db, database.dialect).loginCodes,
      tokens: { sign: () => Promise.reject(new Error("sign-in codes are redeemed by the server")) },
      clock: systemClock,
    });
    return await service.create(principal);
  } finally {
    await database.close();
  }
}
