import { existsSync } from "node:fs";
import { BlobNotFoundError, type BlobStore, type ByteRange, type StagedObject, type StoredObject } from "../../ports/blob-store.js";

/** Keys of the cold tier: `cold/<key>` is `<key>` in the cold store. */
export const COLD_PREFIX = "cold/";

export const coldKeyOf = (key: string): string => (key.startsWith(COLD_PREFIX) ? key : COLD_PREFIX + key);
export const hotKeyOf = (key: string): string => (key.startsWith(COLD_PREFIX) ? key.slice(COLD_PREFIX.length) : key);

const isOriginal = (key: string) => hotKeyOf(key).startsWith("raw/");

interface Place {
  store: BlobStore;
  key: string;
}

/**
 * Two tiers behind one BlobStore: keys under `cold/` live in the cold store, the rest in
 * the hot one. A blob row names its tier through its storage key, so a read goes straight
 * to the right tier. An original missing from the tier its key names is looked for in the
 * other: a reader holding the row from before a move still finds the bytes (lifecycle
 * deletes the old copy only after the row was switched).
 */
export function createTieredStore(hot: BlobStore, cold: BlobStore): BlobStore {
  const route = (key: string): Place => (key.startsWith(COLD_PREFIX) ? { store: cold, key: hotKeyOf(key) } : { store: hot, key });
  const other = (key: string): Place | undefined => {
    if (!isOriginal(key)) return undefined;
    return key.startsWith(COLD_PREFIX) ? { store: hot, key: hotKeyOf(key) } : { store: cold, key };
  };

  async function either<T>(key: string, read: (place: Place) => Promise<T>): Promise<T> {
    try {
      return await read(route(key));
    } catch (error) {
      const second = other(key);
      if (!(error instanceof BlobNotFoundError) || !second) throw error;
      return read(second);
    }
  }

  const localPathOf = (place: Place): string | undefined => place.store.localPath?.(place.key);

  return {
    get capabilities() { return hot.capabilities; },
    async stage(body, signal): Promise<StagedObject> {
      const staged = await hot.stage(body, signal);
      return {
        size: staged.size,
        read: () => staged.read(),
        discard: () => staged.discard(),
        async commit(key: string) {
          if (!key.startsWith(COLD_PREFIX)) return staged.commit(key);
          // Bytes staged in the hot tier bound for the cold one (a repair of a cold
          // original): staged again there, then committed.
          try {
            const again = await cold.stage(await staged.read(), signal);
            return await again.commit(hotKeyOf(key));
          } finally {
            await staged.discard();
          }
        },
      };
    },
    put: (key, body) => route(key).store.put(route(key).key, body),
    adopt: (key) => hot.adopt(key),
    ping: async () => { await Promise.all([hot.ping(), cold.ping()]); },

    get: (key: string, range?: ByteRange) => either(key, (p) => p.store.get(p.key, range)),
    read: (key: string) => either(key, (p) => p.store.read(p.key)),

    async head(key: string): Promise<StoredObject | undefined> {
      const first = route(key);
      const found = await first.store.head(first.key);
      if (found) return { key, size: found.size };
      const second = other(key);
      const elsewhere = second && (await second.store.head(second.key));
      return elsewhere ? { key, size: elsewhere.size } : undefined;
    },

    async delete(key: string) {
      // Content-addressed: removing an original removes it from both tiers, so a move cut
      // short by a crash leaves nothing behind once the content is collected.
      const first = route(key);
      await first.store.delete(first.key);
      const second = other(key);
      if (second) await second.store.delete(second.key);
    },

    async *list(prefix: string) {
      if (!prefix.startsWith(COLD_PREFIX)) {
        yield* hot.list(prefix);
        return;
      }
      for await (const object of cold.list(hotKeyOf(prefix))) yield { key: coldKeyOf(object.key), size: object.size };
    },

    ...(hot.localPath || cold.localPath ? {
      localPath(key: string) {
        const first = route(key);
        const path = localPathOf(first);
        if (path !== undefined && existsSync(path)) return path;
        const second = other(key);
        const fallback = second && localPathOf(second);
        return fallback !== undefined && existsSync(fallback) ? fallback : path;
      },
    } : {}),

    async close() {
      await Promise.all([hot.close(), cold.close()]);
    },
  };
}
