import { useEffect, useState } from "preact/hooks";
import { api, formatBytes } from "./api";

interface Stats {
  scope: string;
  assets: { byStatus: Record<string, number>; byType: Record<string, number> };
  logicalBytes: number;
  physicalBytes: number;
  dedupSavedBytes: number;
  variants?: { count: number; bytes: number };
  cache?: { hits: number; misses: number; hitRatio: number; renders?: number };
  queues?: Record<string, { waiting: number; active: number; dead: number }>;
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

/** One poll of the cache counters; rates are differences between neighbours. */
interface Sample { at: number; renders: number; hits: number; misses: number }
interface Rate { renders: number; requests: number; hitRatio: number | null }
const POLL_MS = 5000;
const KEEP = 31;

function ratesOf(samples: Sample[]): Rate[] {
  const out: Rate[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!, b = samples[i]!;
    const seconds = Math.max(0.001, (b.at - a.at) / 1000);
    const hits = Math.max(0, b.hits - a.hits), misses = Math.max(0, b.misses - a.misses);
    out.push({ renders: Math.max(0, b.renders - a.renders) / seconds, requests: (hits + misses) / seconds, hitRatio: hits + misses ? hits / (hits + misses) : null });
  }
  return out;
}

/** An inline SVG polyline of the values, scaled to their maximum. */
function Sparkline({ values: given, label, testId }: { values: number[]; label: string; testId: string }) {
  const values = given.length === 1 ? [given[0]!, given[0]!] : given;
  const max = Math.max(...values, 0) || 1;
  const step = values.length > 1 ? 100 / (values.length - 1) : 100;
  const points = values.map((v, i) => `${(i * step).toFixed(2)},${(30 - (v / max) * 28 - 1).toFixed(2)}`).join(" ");
  return (
    <svg class="spark" data-testid={testId} viewBox="0 0 100 30" preserveAspectRatio="none" role="img" aria-label={label}>
      <polyline points={points} />
    </svg>
  );
}

/** Renders/s, variant requests/s and the hit ratio over the last interval, from /v1/stats every 5 s. */
function Rates({ stats }: { stats: Stats }) {
  const [samples, setSamples] = useState<Sample[]>([]);
  useEffect(() => {
    if (!stats.cache) return;
    const sample = { at: Date.now(), renders: stats.cache.renders ?? 0, hits: stats.cache.hits, misses: stats.cache.misses };
    setSamples((list) => [...list, sample].slice(-KEEP));
  }, [stats]);
  if (!stats.cache) return null;
  const rates = ratesOf(samples);
  const last = rates[rates.length - 1];
  const fmt = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0));
  return (
    <div class="cards">
      <div class="card stat"><h3>Renders/s</h3>
        <p class="big" data-testid="renders-rate">{last ? fmt(last.renders) : "…"}</p>
        {rates.length > 0 && <Sparkline values={rates.map((r) => r.renders)} label="renders per second, last samples" testId="renders-spark" />}
        <p class="hint">{stats.cache.renders ?? 0} renders in all; sampled every {POLL_MS / 1000} s</p></div>
      <div class="card stat"><h3>Variant requests/s</h3>
        <p class="big" data-testid="requests-rate">{last ? fmt(last.requests) : "…"}</p>
        {rates.length > 0 && <Sparkline values={rates.map((r) => r.requests)} label="variant requests per second, last samples" testId="requests-spark" />}
        <p class="hint">hit ratio over the last interval: <span data-testid="interval-hit-ratio">{last?.hitRatio == null ? "–" : `${(last.hitRatio * 100).toFixed(1)} %`}</span></p></div>
    </div>
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
  useEffect(() => {
    const timer = setInterval(() => { api<Stats>("/v1/stats").then(setStats).catch(() => undefined); }, POLL_MS);
    return () => clearInterval(timer);
  }, []);
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
      <Rates stats={stats} />
      <div class="cards">
        <Bars title="Assets by status" counts={stats.assets.byStatus} />
        <Bars title="Assets by type" counts={stats.assets.byType} />
      </div>
      {stats.queues && <>
        <h3>Queues</h3>
        <div class="scroll"><table class="queues" data-testid="queue-depths">
          <thead><tr><th>queue</th><th>waiting</th><th>active</th><th>dead</th></tr></thead>
          <tbody>{Object.entries(stats.queues).map(([name, q]) => <tr><td>{name}</td><td>{q.waiting}</td><td>{q.active}</td><td>{q.dead}</td></tr>)}</tbody>
        </table></div>
      </>}
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
