import { useEffect, useState } from "preact/hooks";
import { api, formatBytes } from "./api";

interface Stats {
  scope: string;
  assets: { byStatus: Record<string, number>; byType: Record<string, number> };
  logicalBytes: number;
  physicalBytes: number;
  dedupSavedBytes: number;
  variants?: { count: number; bytes: number };
  cache?: { hits: number; misses: number; hitRatio: number };
  queues: Record<string, { waiting: number; active: number; dead: number }>;
  quota?: { maxBytes: number | null; usedBytes: number; availableBytes: number | null };
}
interface Job { id: string; name: string; key: string | null; attempts: number; lastError: string | null; updatedAt: string }

/** Horizontal bars for a count map: the "charts" of the dashboard, in plain CSS. */
function Bars({ title, counts }: { title: string; counts: Record<string, number> }) {
  const max = Math.max(1, ...Object.values(counts));
  return (
    <figure class="bars">
      <figcaption>{title}</figcaption>
      {Object.entries(counts).map(([k, v]) => (
        <div class="bar-row"><span>{k}</span><span class="bar" style={{ width: `${(v / max) * 100}%` }} /><span>{v}</span></div>
      ))}
    </figure>
  );
}

/** GET /v1/stats, and for admins the dead letters with a retry for each. */
export function Dashboard({ admin }: { admin: boolean }) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [dead, setDead] = useState<Job[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const load = () => {
    api<Stats>("/v1/stats").then(setStats).catch((e: Error) => setError(e.message));
    if (admin) api<{ items: Job[] }>("/v1/admin/jobs?state=dead").then((r) => setDead(r.items)).catch(() => setDead(null));
  };
  useEffect(load, [admin]);
  const retry = async (job: Job) => {
    try {
      await api(`/v1/admin/jobs/${encodeURIComponent(job.id)}/retry`, { method: "POST", body: "{}" });
      setMessage(`Job ${job.name} ${job.id} queued again.`);
      load();
    } catch (e) { setMessage(`Retry failed: ${(e as Error).message}`); }
  };
  if (error) return <p class="error" role="alert">Could not load the statistics: {error}</p>;
  if (!stats) return <p class="hint">Loading…</p>;
  const saved = stats.logicalBytes ? stats.dedupSavedBytes / stats.logicalBytes : 0;
  return (
    <section class="dashboard" aria-labelledby="dash-title">
      <h2 id="dash-title">Dashboard <small>({stats.scope === "service" ? "whole service" : "your assets"})</small></h2>
      <div class="cards">
        <div class="card stat"><h3>Saved by dedup</h3><p class="big" data-testid="dedup-saved" data-bytes={stats.dedupSavedBytes}>{formatBytes(stats.dedupSavedBytes)}</p>
          <p class="hint">{Math.round(saved * 100)} % of {formatBytes(stats.logicalBytes)} uploaded; {formatBytes(stats.physicalBytes)} stored</p></div>
        {stats.cache && <div class="card stat"><h3>Cache hit ratio</h3><p class="big" data-testid="hit-ratio">{(stats.cache.hitRatio * 100).toFixed(1)} %</p>
          <p class="hint">{stats.cache.hits} hits, {stats.cache.misses} misses</p></div>}
        {stats.variants && <div class="card stat"><h3>Variants</h3><p class="big">{stats.variants.count}</p><p class="hint">{formatBytes(stats.variants.bytes)}</p></div>}
        {stats.quota && <div class="card stat"><h3>Quota</h3><p class="big">{formatBytes(stats.quota.usedBytes)}</p>
          <p class="hint">of {stats.quota.maxBytes === null ? "unlimited" : formatBytes(stats.quota.maxBytes)}</p></div>}
      </div>
      <div class="cards">
        <Bars title="Assets by status" counts={stats.assets.byStatus} />
        <Bars title="Assets by type" counts={stats.assets.byType} />
      </div>
      <h3>Queues</h3>
      <table class="queues">
        <thead><tr><th>queue</th><th>waiting</th><th>active</th><th>dead</th></tr></thead>
        <tbody>{Object.entries(stats.queues).map(([name, q]) => <tr><td>{name}</td><td>{q.waiting}</td><td>{q.active}</td><td>{q.dead}</td></tr>)}</tbody>
      </table>
      {admin && dead && (
        <>
          <h3>Dead letters</h3>
          {message && <p role="status">{message}</p>}
          {dead.length === 0 ? <p class="hint">none</p> : (
            <table class="queues">
              <thead><tr><th>job</th><th>key</th><th>attempts</th><th>last error</th><th /></tr></thead>
              <tbody>{dead.map((job) => (
                <tr><td>{job.name}</td><td><code>{job.key}</code></td><td>{job.attempts}</td><td>{job.lastError}</td>
                  <td><button type="button" onClick={() => retry(job)}>Retry</button></td></tr>
              ))}</tbody>
            </table>
          )}
        </>
      )}
      <p><button type="button" onClick={load}>Refresh</button></p>
    </section>
  );
}
