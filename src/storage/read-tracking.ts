import type { BlobStore } from "../ports/blob-store.js";
import { contentDigestOf } from "./replicated/failover-store.js";

/**
 * Tells `onRead` which original was read (delivery, renders, jobs), by content digest. The
 * callback must be cheap: it is called on the request path and is expected to batch.
 */
export function withReadTracking(store: BlobStore, onRead: (sha256: string) => void): BlobStore {
  const seen = (key: string) => {
    const digest = contentDigestOf(key);
    if (digest) onRead(digest);
  };
  return {
    get capabilities() { return store.capabilities; },
    stage: (body, signal) => store.stage(body, signal),
    put: (key, body) => store.put(key, body),
    head: (key) => store.head(key),
    delete: (key) => store.delete(key),
    list: (prefix) => store.list(prefix),
    adopt: (key) => store.adopt(key),
    ping: () => store.ping(),
    close: () => store.close(),
    get: (key, range) => { seen(key); return store.get(key, range); },
    read: (key) => { seen(key); return store.read(key); },
    ...(store.localPath ? { localPath: (key: string) => { seen(key); return store.localPath!(key); } } : {}),
  };
}
