import type { BlobCareRepo } from "../ports/blob-care.js";
import type { Clock } from "../ports/clock.js";

/** Reads remembered between flushes at most; beyond that a flush is due early. */
const MAX_PENDING = 50_000;

/**
 * When each original was last read, kept in memory and written in one batch per flush:
 * delivery never waits on a write for it. A crash loses at most one interval's reads,
 * which only delays a move to the cold tier.
 */
export function createReadRecorder(deps: { care: Pick<BlobCareRepo, "recordReads">; clock: Clock }) {
  let pending = new Map<string, number>();
  let flushing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    if (flushing) return flushing;
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    flushing = deps.care.recordReads(batch).catch((error: unknown) => {
      // Put the batch back (newer reads win) and let the next flush try again.
      for (const [sha256, at] of batch) if (!pending.has(sha256)) pending.set(sha256, at);
      throw error;
    }).finally(() => { flushing = undefined; });
    return flushing;
  }

  return {
    read(sha256: string): void {
      if (pending.size >= MAX_PENDING && !pending.has(sha256)) flush().catch(() => {});
      pending.set(sha256, deps.clock.now());
    },
    flush,
  };
}

export type ReadRecorder = ReturnType<typeof createReadRecorder>;
