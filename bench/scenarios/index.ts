import type { Scenario } from "../lib/types.js";
import { abuse } from "./abuse.js";
import { cachedDelivery } from "./cached-delivery.js";
import { coldTransforms } from "./cold-transforms.js";
import { graph } from "./graph.js";
import { concurrentUploads } from "./concurrent-uploads.js";
import { ingestion } from "./ingestion.js";
import { metadata } from "./metadata.js";
import { stampede } from "./stampede.js";
import { storeCare } from "./store-care.js";
import { uploads } from "./uploads.js";
import { warmVsCold } from "./warm-vs-cold.js";

/** In run order; each is runnable alone by name. */
export const SCENARIOS: readonly Scenario[] = [
  cachedDelivery, coldTransforms, graph, warmVsCold, stampede, ingestion, uploads, concurrentUploads, metadata, storeCare, abuse,
];
