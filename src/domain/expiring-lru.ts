/**
 * A least-recently-used map whose entries also expire, with invalidation that a slow fill
 * cannot undo. It holds copies of rows that change (an asset's status, its grants), so two
 * rules bound how stale an entry can be:
 *
 * - Every entry expires `ttlMs` after the read that produced it began (not after it was
 *   stored): if every invalidation is lost, nothing is older than that.
 * - A fill is a ticket taken before the read and handed back with its result. An
 *   invalidation of the key (or `clear`) while the read is in flight voids the ticket, so a
 *   read that raced a change never stores what it saw before the change.
 *
 * Time is passed in (`now`), so the rules are tested without a clock.
 */
export interface Fill<K> {
  readonly key: K;
  readonly startedAt: number;
}

interface Ticket<K> extends Fill<K> {
  void: boolean;
}

export class ExpiringLru<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private readonly inFlight = new Map<K, Set<Ticket<K>>>();

  /** `maxEntries` 0 stores nothing (every `get` misses). */
  constructor(readonly maxEntries: number, readonly ttlMs: number) {}

  /** The live entry, marked most recently used; undefined when absent or expired. */
  get(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Takes a ticket before reading what will be stored under `key`. */
  begin(key: K, now: number): Fill<K> {
    const ticket: Ticket<K> = { key, startedAt: now, void: false };
    let tickets = this.inFlight.get(key);
    if (!tickets) this.inFlight.set(key, (tickets = new Set()));
    tickets.add(ticket);
    return ticket;
  }

  /**
   * Stores the read's result unless the key was invalidated since `begin` or the result
   * would already be expired at `now`; true when stored. Ends the ticket either way.
   */
  complete(fill: Fill<K>, value: V, now: number): boolean {
    const ticket = this.end(fill);
    if (!ticket || ticket.void || this.maxEntries <= 0) return false;
    const expiresAt = ticket.startedAt + this.ttlMs;
    if (expiresAt <= now) return false;
    this.entries.delete(fill.key);
    this.entries.set(fill.key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
    return true;
  }

  /** Ends a ticket whose read failed, storing nothing. */
  abandon(fill: Fill<K>): void {
    this.end(fill);
  }

  /** Drops the entry and voids every read of the key still in flight. */
  invalidate(key: K): void {
    this.entries.delete(key);
    for (const ticket of this.inFlight.get(key) ?? []) ticket.void = true;
  }

  /** Drops everything and voids every read in flight (e.g. after invalidations may have been missed). */
  clear(): void {
    this.entries.clear();
    for (const tickets of this.inFlight.values()) for (const ticket of tickets) ticket.void = true;
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  /** Reads in flight (tickets taken and not yet completed or abandoned). */
  get filling(): number {
    let count = 0;
    for (const tickets of this.inFlight.values()) count += tickets.size;
    return count;
  }

  private end(fill: Fill<K>): Ticket<K> | undefined {
    const tickets = this.inFlight.get(fill.key);
    const ticket = fill as Ticket<K>;
    if (!tickets?.delete(ticket)) return undefined;
    if (tickets.size === 0) this.inFlight.delete(fill.key);
    return ticket;
  }
}
