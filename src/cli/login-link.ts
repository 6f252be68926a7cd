import { loadConfig, type Config } from "../config/index.js";
import { migrate, openDatabase } from "../db/connect.js";
import { createRepos } from "../db/repos.js";
import { systemClock } from "../ports/clock.js";
import { createLoginCodeService, loginLink } from "../services/login-codes.js";

export interface LoginLinkOptions {
  sub?: string;
  admin?: boolean;
}

/** Where a console on this configuration is reached: ASSETD_PUBLIC_URL, else its own port. */
export function consoleBaseOf(config: Config): string {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const host = ["0.0.0.0", "::", "127.0.0.1", "::1"].includes(config.host) ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/**
 * `assetd login-link`: a fresh one-time sign-in link for the web console of a running
 * deployment, written straight into the configured database (as `assetd token` does), so
 * it needs no token and no running server of its own. Without `--sub`: the admin.
 */
export async function loginLinkCommand(options: LoginLinkOptions): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl);
  try {
    await migrate(database.db);
    // The code is only stored here; the server that redeems it signs the session token.
    const service = createLoginCodeService({
      repo: createRepos(database.db, database.dialect).loginCodes,
      tokens: { sign: () => Promise.reject(new Error("sign-in codes are redeemed by the server")) },
      clock: systemClock,
    });
    const sub = options.sub ?? "admin";
    const { code } = await service.create({ sub, admin: options.sub === undefined || options.admin === true });
    process.stdout.write(`${loginLink(consoleBaseOf(config), code)}\n`);
    process.stderr.write(`one-time sign-in link for ${sub}, valid 10 minutes\n`);
  } finally {
    await database.close();
  }
}
