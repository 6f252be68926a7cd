/**
 * A poll interval that can be cut short. A wake that arrives while nobody sleeps is kept,
 * so an enqueue that lands between "found nothing" and "go to sleep" is not missed.
 */
export class WakeableSleep {
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private resolve: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => this.finish(), ms);
    });
  }

  wake(): void {
    if (this.resolve) this.finish();
    else this.pending = true;
  }

  /** Forget a stored wake: the caller is about to look for work anyway. */
  clear(): void {
    this.pending = false;
  }

  private finish(): void {
    clearTimeout(this.timer);
    const resolve = this.resolve;
    this.timer = undefined;
    this.resolve = undefined;
    resolve?.();
  }
}
