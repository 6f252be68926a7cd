import { loadConfig, type Config } from "../config/index.js";
import { createLoginCode, loginLink } from "../main/login-link.js";

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
 * it needs no token and no server of its own. Without `--sub`: the admin.
 */
export async function loginLinkCommand(options: LoginLinkOptions): Promise<void> {
  const config = loadConfig();
  const sub = options.sub ?? "admin";
  const { code } = await createLoginCode(config, { sub, admin: options.sub === undefined || options.admin === true });
  process.stdout.write(`${loginLink(consoleBaseOf(config), code)}\n`);
  process.stderr.write(`one-time sign-in link for ${sub}, valid 10 minutes\n`);
}
