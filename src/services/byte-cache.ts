/**
 * A least-recently-used cache of small immutable byte strings under a byte budget. Keys
 * are content-derived (variant cache keys), so an entry can never go stale: it is only
 * ever evicted, never invalidated.
 */
export class ByteCache<V extends { data: Buffer }> {
  private readonly entries = new Map<string, V>();
  private bytes = 0;

  constructor(private readonly budget: number, private readonly maxEntryBytes = Math.max(1, Math.floor(budget / 16))) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    const size = value.data.length;
    if (size > this.maxEntryBytes || this.budget === 0) return;
    const existing = this.entries.get(key);
    if (existing) {
      this.entries.delete(key);
      this.bytes -= existing.data.length;
    }
    this.entries.set(key, value);
    this.bytes += size;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(oldest);
      this.bytes -= entry.data.length;
    }
  }

  delete(key: string): void {
    const existing = this.entries.get(key);
    if (!existing) return;
    this.entries.delete(key);
    this.bytes -= existing.data.length;
  }

  get size(): number {
    return this.bytes;
  }
}
