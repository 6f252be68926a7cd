import { Redis } from "ioredis";

/** The Redis the tests use: ASSETD_TEST_REDIS_URL, default the local one. */
export const REDIS_URL = process.env.ASSETD_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** undefined when Redis answers, else the reason it does not. */
export async function probeRedis(url = REDIS_URL): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${url} is not reachable (${error instanceof Error ? error.message : String(error)}); set ASSETD_TEST_REDIS_URL or start redis-server`;
  } finally {
    client.disconnect();
  }
}

/** Removes every key starting with `keyPrefix` (SCAN, never KEYS, so a shared Redis is not blocked). */
export async function deleteKeysStartingWith(keyPrefix: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}
