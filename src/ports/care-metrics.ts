/** What the store-care passes report; observability/care-metrics.ts turns it into Prometheus series. */
export interface CareMetrics {
  /** Bytes re-hashed by scrub. */
  scrubbed(bytes: number): void;
  /** A stored original found missing or corrupt, and whether it was repaired. */
  damaged(kind: "missing" | "corrupt", repaired: boolean): void;
  /** A read answered by the replica. */
  failover(reason: "missing" | "error" | "corrupt"): void;
  /** Originals copied to the replica. */
  replicated(bytes: number): void;
  /** Originals moved to the cold tier. */
  movedCold(bytes: number): void;
}

export const noopCareMetrics: CareMetrics = {
  scrubbed() {}, damaged() {}, failover() {}, replicated() {}, movedCold() {},
};
