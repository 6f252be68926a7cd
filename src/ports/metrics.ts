/** What services report; observability/ turns it into Prometheus series. */
export interface Metrics {
  variantHit(): void;
  variantMiss(): void;
  variantRendered(seconds: number, format: string): void;
  variantCollapsed(): void;
  transformRejected(reason: "overloaded"): void;
  ingested(bytes: number, deduplicated: boolean): void;
  jobFinished(name: string, outcome: "done" | "failed", seconds: number): void;
}

export const noopMetrics: Metrics = {
  variantHit() {}, variantMiss() {}, variantRendered() {}, variantCollapsed() {}, transformRejected() {},
  ingested() {}, jobFinished() {},
};
