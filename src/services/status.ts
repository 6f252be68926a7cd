import type { Caller, Principal } from "../domain/access.js";
import type { QuotaView } from "../domain/quota.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { JobQueue } from "../ports/job-queue.js";
import type { ToolStatus } from "../ports/transcoder.js";
import type { Repos } from "../ports/repos.js";
import type { QuotaService } from "./quotas.js";

export interface StatusDeps {
  repos: Pick<Repos, "stats" | "ping">;
  store: Pick<BlobStore, "ping">;
  queue: Pick<JobQueue, "depth">;
  quotas: Pick<QuotaService, "of">;
  /** The deployment's counters (services/fleet-counters.ts): every process's, restarts included. */
  counters(): Promise<Readonly<Record<string, number>>>;
  /** The image engine's name and version, as readiness reports it. */
  engine: string;
  /** Optional media tools (probes, the transcoder): reported, never a reason to be unready. */
  tools: ReadonlyArray<{ status(): Promise<ToolStatus> }>;
  /** Variants rendered by prewarm and how many were requested afterwards (admins only). */
  prewarm?: () => Promise<{ variants: number; requested: number; hitShare: number }>;
  /** Stored originals per tier (admins only). */
  usageByTier?: () => Promise<Record<"hot" | "cold", { blobs: number; bytes: number }>>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
  /** Admins only, as are the checks' `error` texts. */
  engine?: string;
  tools?: ToolStatus[];
}

/** What the service reports about itself: usage statistics and dependency readiness. */
export function createStatusService(deps: StatusDeps) {
  let tools: Promise<ToolStatus[]> | undefined;

  /**
   * An admin sees the whole service, a user their own assets (and their quota). Variants
   * are shared by every owner of the same content and the cache counters by every client,
   * so a user's figures would move with other tenants' requests: only admins get them.
   */
  async function stats(caller: Principal) {
    const stats = await deps.repos.stats(caller.admin ? undefined : caller.sub);
    const quota: QuotaView | undefined = caller.admin ? undefined : await deps.quotas.of(caller.sub);
    return {
      scope: caller.admin ? "service" : "owner",
      assets: { byStatus: stats.byStatus, byType: stats.byKind },
      logicalBytes: stats.logicalBytes,
      physicalBytes: stats.physicalBytes,
      dedupSavedBytes: Math.max(0, stats.logicalBytes - stats.physicalBytes),
      ...(caller.admin ? await serviceWide(stats.variants) : {}),
      ...(caller.admin && deps.prewarm ? { prewarm: await deps.prewarm() } : {}),
      ...(caller.admin && deps.usageByTier ? { storage: { byTier: await deps.usageByTier() } } : {}),
      queues: await deps.queue.depth(),
      ...(quota ? { quota } : {}),
    };
  }

  /**
   * Figures of the whole deployment since its database was created: every process's
   * variant lookups and renders (hits are renders saved), uploads and what dedup saved of
   * them, and what gc gave back.
   */
  async function serviceWide(variants: { count: number; bytes: number }) {
    const counted = await deps.counters();
    const n = (name: string) => counted[name] ?? 0;
    const hits = n("variant_hits");
    const misses = n("variant_misses");
    const lookups = hits + misses;
    return {
      variants: { ...variants, served: lookups, rendered: n("variant_renders") },
      cache: { hits, misses, hitRatio: lookups ? hits / lookups : 0, renders: n("variant_renders") },
      uploads: {
        total: n("uploads"), deduplicated: n("uploads_deduplicated"),
        bytes: n("ingested_bytes"), deduplicatedBytes: n("deduplicated_bytes"),
      },
      gc: { bytesCollected: n("gc_bytes_collected"), objectsRemoved: n("gc_objects_removed") },
    };
  }

  /**
   * The database, the store and the queue must answer; media tools are only reported.
   * Anyone may ask (load balancers ask anonymously), but error texts carry paths, hosts and
   * driver detail, and versions tell an attacker which vulnerabilities apply: others see
   * only which components are up.
   */
  async function readiness(caller: Caller): Promise<Readiness> {
    const checks: Readiness["checks"] = {};
    const probe = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
        checks[name] = { ok: true };
      } catch (error) {
        checks[name] = { ok: false, error: (error as Error).message };
      }
    };
    await Promise.all([
      probe("database", () => deps.repos.ping()),
      probe("store", () => deps.store.ping()),
      probe("queue", async () => void (await deps.queue.depth())),
    ]);
    const ready = Object.values(checks).every((c) => c.ok);
    if (!caller?.admin) {
      return { ready, checks: Object.fromEntries(Object.entries(checks).map(([name, { ok }]) => [name, { ok }])) };
    }
    return { ready, checks, engine: deps.engine, tools: await toolStatuses() };
  }

  /** The optional media tools, each with its name: asked once, since installs do not change while the process runs. */
  function toolStatuses(): Promise<ToolStatus[]> {
    tools ??= Promise.all(deps.tools.map((tool) => tool.status()));
    return tools;
  }

  return { stats, readiness };
}

export type StatusService = ReturnType<typeof createStatusService>;
