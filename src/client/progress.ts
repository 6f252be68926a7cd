export interface Progress {
  loaded: number;
  total: number;
}

/**
 * Sums the bytes sent by concurrent requests (one slot per part). A retried part starts
 * from zero again, so `loaded` can step back; it ends at `total` on success.
 */
export class ProgressTracker {
  private readonly slots = new Map<number, number>();
  private loaded = 0;
  private last = -1;

  constructor(private readonly total: number, private readonly listener?: (progress: Progress) => void) {}

  set(slot: number, sent: number): void {
    this.loaded += sent - (this.slots.get(slot) ?? 0);
    this.slots.set(slot, sent);
    this.emit();
  }

  finish(): void {
    this.loaded = this.total;
    this.emit();
  }

  private emit(): void {
    if (!this.listener || this.loaded === this.last) return;
    this.last = this.loaded;
    this.listener({ loaded: this.loaded, total: this.total });
  }
}
