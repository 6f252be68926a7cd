import { Counter, type Registry } from "prom-client";
import type { CareMetrics } from "../ports/care-metrics.js";

/** Prometheus series of the store-care passes, on the process's registry. */
export function createCareMetrics(registry: Registry): CareMetrics {
  const registers = [registry];
  const scrubbed = new Counter({ name: "assetd_scrub_bytes_total", help: "Bytes of originals re-hashed by scrub", registers });
  const damaged = new Counter({
    name: "assetd_blob_damage_total", help: "Stored originals found missing or corrupt, by whether they were repaired",
    labelNames: ["kind", "repaired"] as const, registers,
  });
  const failover = new Counter({
    name: "assetd_replica_reads_total", help: "Reads of originals answered by the replica, by why the primary could not answer",
    labelNames: ["reason"] as const, registers,
  });
  const replicated = new Counter({ name: "assetd_replicated_bytes_total", help: "Bytes of originals copied to the replica", registers });
  const movedCold = new Counter({ name: "assetd_cold_moved_bytes_total", help: "Bytes of originals moved to the cold tier", registers });
  return {
    scrubbed: (bytes) => scrubbed.inc(bytes),
    damaged: (kind, repaired) => damaged.inc({ kind, repaired: String(repaired) }),
    failover: (reason) => failover.inc({ reason }),
    replicated: (bytes) => replicated.inc(bytes),
    movedCold: (bytes) => movedCold.inc(bytes),
  };
}
