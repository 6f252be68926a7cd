/** What services report; observability/ turns it into Prometheus series. */
export interface Metrics {
  variantHit(): void;
  variantMiss(): void;
  /** `source`: rendered from the original, or derived from an intermediate rung (the transformation graph). */
  variantRendered(seconds: number, format: string, source?: "original" | "intermediate"): void;
  /** A rung of the intermediate ladder rendered from the original. */
  intermediateRendered(seconds: number): void;
  variantCollapsed(): void;
  /** Variants removed by the cache budget's eviction pass, and their bytes. */
  variantsEvicted(count: number, bytes: number): void;
  transformRejected(reason: "overloaded"): void;
  /** A variant rendered by prewarm (demand prediction). */
  prewarmRendered(): void;
  /** Prewarmed variants requested for the first time since their render. */
  prewarmRequested(count: number): void;
  ingested(bytes: number, deduplicated: boolean): void;
  jobFinished(name: string, outcome: "done" | "failed", seconds: number): void;
  /** A delivery lookup of an asset's facts: answered from the hot-metadata cache, or read from the database. */
  metaCacheLookup(result: "hit" | "miss"): void;
  /** An entry dropped because its asset changed: here (`local`) or as announced by a process (`remote`). */
  metaCacheInvalidated(origin: "local" | "remote"): void;
}

export const noopMetrics: Metrics = {
  variantHit() {}, variantMiss() {}, variantRendered() {}, intermediateRendered() {}, variantCollapsed() {}, variantsEvicted() {}, transformRejected() {},
  prewarmRendered() {}, prewarmRequested() {}, ingested() {}, jobFinished() {}, metaCacheLookup() {}, metaCacheInvalidated() {},
};

/** What the HTTP layer reports, and the exposition it serves at /metrics. */
export interface HttpMetrics {
  /** One finished request; `route` is the route pattern, never the raw URL (bounded label values). */
  requestFinished(method: string, route: string, status: number, seconds: number): void;
  /** The current scrape: Prometheus text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}
