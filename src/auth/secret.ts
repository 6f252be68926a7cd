import { mkdir, readFile, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

/**
 * The embedded default's token secret: with no ASSETD_JWT_SECRET, the server keeps a
 * generated secret in its data directory (mode 0600) so tokens survive restarts.
 */
const FILE = "jwt-secret";

export function secretPath(dataDir: string): string {
  return join(dataDir, FILE);
}

/** The stored secret, or undefined when the data directory has none (never creates one). */
export async function readSecret(dataDir: string): Promise<string | undefined> {
  try {
    const existing = (await readFile(secretPath(dataDir), "utf8")).trim();
    return existing.length >= 32 ? existing : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The stored secret, created on first start; concurrent first starts agree on one. */
export async function readOrCreateSecret(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const existing = await readSecret(dataDir);
  if (existing) return existing;
  const secret = randomBytes(32).toString("base64url");
  await writeFile(secretPath(dataDir), `${secret}\n`, { mode: 0o600, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    // Another process created it first: use theirs.
    if (error.code !== "EEXIST") throw error;
  });
  return (await readFile(secretPath(dataDir), "utf8")).trim();
}
