import { createTokens } from "../auth/jwt.js";
import { loadConfig } from "../config/index.js";
import { readOrCreateSecret } from "../main.js";

export async function tokenCommand(options: { sub: string; admin: boolean; group?: string[]; ttl?: number }): Promise<void> {
  const config = loadConfig();
  const secret = config.jwtSecret ?? (await readOrCreateSecret(config.dataDir));
  const token = await createTokens(secret).sign({ sub: options.sub, admin: options.admin, groups: options.group }, options.ttl);
  process.stdout.write(`${token}\n`);
}
