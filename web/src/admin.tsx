import { useEffect, useState } from "preact/hooks";
import { api, formatBytes } from "./api";
import { Maintenance } from "./admin-care";

const STATES = ["dead", "waiting", "active", "done"] as const;
type State = (typeof STATES)[number];

interface Job {
  id: string; name: string; key: string | null; state: string; attempts: number; maxAttempts: number;
  lastError: string | null; runAt: string; createdAt: string; updatedAt: string;
}
interface Quota { owner: string; maxBytes: number | null; source: string; usedBytes: number; reservedBytes: number; availableBytes: number | null }

const when = (iso: string) => <time dateTime={iso} title={iso}>{new Date(iso).toLocaleString()}</time>;

/** GET /v1/admin/jobs?state=…, with a retry for each dead job. */
function Jobs() {
  const [state, setState] = useState<State>("dead");
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const load = () => {
    setError(null);
    api<{ items: Job[] }>(`/v1/admin/jobs?state=${state}&limit=200`).then((r) => setJobs(r.items)).catch((e: Error) => setError(e.message));
  };
  useEffect(load, [state]);
  const retry = async (job: Job) => {
    try {
      await api(`/v1/admin/jobs/${encodeURIComponent(job.id)}/retry`, { method: "POST", body: "{}" });
      setMessage(`Job ${job.name} ${job.id} queued again.`);
      load();
    } catch (e) { setMessage(`Retry failed: ${(e as Error).message}`); }
  };
  return (
    <section aria-labelledby="jobs-title">
      <h3 id="jobs-title">Jobs</h3>
      <div class="inline">
        <label>State
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value as State)}>
            {STATES.map((s) => <option value={s}>{s}</option>)}
          </select>
        </label>
        <button type="button" onClick={load}>Refresh jobs</button>
      </div>
      {message && <p role="status">{message}</p>}
      {error && <p class="error" role="alert">Could not list jobs: {error}</p>}
      {jobs && (jobs.length === 0 ? <p class="hint">No {state} jobs.</p> : (
        <div class="scroll" tabIndex={0} aria-label="Jobs table">
          <table class="jobs" data-testid="jobs">
            <thead><tr><th>name</th><th>key</th><th>state</th><th>attempts</th><th>last error</th><th>created</th><th>updated</th><th /></tr></thead>
            <tbody>{jobs.map((job) => (
              <tr data-state={job.state}>
                <td>{job.name}</td><td><code>{job.key}</code></td><td>{job.state}</td><td>{job.attempts}/{job.maxAttempts}</td>
                <td>{job.lastError ?? "–"}</td><td>{when(job.createdAt)}</td><td>{when(job.updatedAt)}</td>
                <td>{job.state === "dead" && <button type="button" onClick={() => retry(job)}>Retry</button>}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

/** One owner's limit: a number with a unit, or empty for the default. */
function QuotaForm({ owner, current, onSaved }: { owner?: string; current?: number | null; onSaved: (owner: string) => void }) {
  const [who, setWho] = useState(owner ?? "");
  const [amount, setAmount] = useState(current === null || current === undefined ? "" : String(current / 1024 ** 2));
  const [unit, setUnit] = useState("MiB");
  const [error, setError] = useState<string | null>(null);
  const id = owner ? `q-${owner.replace(/[^\w-]/g, "_")}` : "q-new";
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    const factor = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 }[unit] ?? 1;
    const maxBytes = amount.trim() === "" ? null : Math.round(Number(amount) * factor);
    if (maxBytes !== null && (!Number.isFinite(maxBytes) || maxBytes < 0)) { setError("the limit must be a number, 0 or more"); return; }
    if (!who.trim()) { setError("the owner is required"); return; }
    try {
      await api(`/v1/admin/quotas/${encodeURIComponent(who.trim())}`, { method: "PUT", body: JSON.stringify({ maxBytes }) });
      onSaved(who.trim());
    } catch (e) { setError(`Could not set the quota: ${(e as Error).message}`); }
  };
  return (
    <form class="inline" onSubmit={submit} aria-label={owner ? `Quota of ${owner}` : "Set a quota"}>
      {!owner && <label for={`${id}-owner`}>Owner<input id={`${id}-owner`} value={who} required onInput={(e) => setWho((e.target as HTMLInputElement).value)} /></label>}
      <label for={`${id}-max`}>Limit{owner ? ` for ${owner}` : ""}
        <input id={`${id}-max`} inputMode="decimal" size={8} value={amount} placeholder="default" onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
      </label>
      <label for={`${id}-unit`}>Unit
        <select id={`${id}-unit`} value={unit} onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}>
          {["B", "KiB", "MiB", "GiB", "TiB"].map((u) => <option value={u}>{u}</option>)}
        </select>
      </label>
      <button type="submit">Save</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

/** GET /v1/admin/quotas, PUT /v1/admin/quotas/:owner. */
function Quotas() {
  const [data, setData] = useState<{ items: Quota[]; defaultMaxBytes: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const load = () => { api<{ items: Quota[]; defaultMaxBytes: number | null }>("/v1/admin/quotas").then(setData).catch((e: Error) => setError(e.message)); };
  useEffect(load, []);
  const saved = (owner: string) => { setMessage(`Quota of ${owner} saved.`); load(); };
  const limit = (q: Quota) => q.maxBytes === null ? "unlimited" : formatBytes(q.maxBytes);
  return (
    <section aria-labelledby="quotas-title">
      <h3 id="quotas-title">Quotas</h3>
      {error && <p class="error" role="alert">Could not list quotas: {error}</p>}
      {data && <p class="hint">Default limit: {data.defaultMaxBytes === null ? "unlimited" : formatBytes(data.defaultMaxBytes)}. An empty limit returns the owner to the default.</p>}
      {message && <p role="status">{message}</p>}
      {data && (
        <div class="scroll" tabIndex={0} aria-label="Quotas table">
          <table data-testid="quotas">
            <thead><tr><th>owner</th><th>used</th><th>reserved</th><th>limit</th><th>source</th><th>edit</th></tr></thead>
            <tbody>{data.items.map((q) => (
              <tr data-owner={q.owner}><td>{q.owner}</td><td>{formatBytes(q.usedBytes)}</td><td>{formatBytes(q.reservedBytes)}</td>
                <td class="limit">{limit(q)}</td><td>{q.source}</td>
                <td><QuotaForm key={`${q.owner}:${q.maxBytes}`} owner={q.owner} current={q.source === "owner" ? q.maxBytes : null} onSaved={saved} /></td></tr>
            ))}</tbody>
          </table>
        </div>
      )}
      <h4>Set a quota for any owner</h4>
      <QuotaForm onSaved={saved} />
    </section>
  );
}

/** POST /v1/admin/tokens/revoke with {jti} or {token}. */
function Tokens() {
  const [by, setBy] = useState<"jti" | "token">("jti");
  const [value, setValue] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setMessage(null);
    setError(null);
    try {
      await api("/v1/admin/tokens/revoke", { method: "POST", body: JSON.stringify({ [by]: value.trim() }) });
      setMessage(by === "jti" ? `Token ${value.trim()} revoked.` : "That token is revoked.");
      setValue("");
    } catch (e) { setError(`Could not revoke: ${(e as Error).message}`); }
  };
  return (
    <section aria-labelledby="tokens-title">
      <h3 id="tokens-title">Tokens</h3>
      <p class="hint">New tokens come from <code>assetd token --sub NAME</code> on the server. A revoked token is refused (401) by every API process.</p>
      <form class="inline" onSubmit={submit}>
        <label for="revoke-by">Revoke by
          <select id="revoke-by" value={by} onChange={(e) => setBy((e.target as HTMLSelectElement).value as "jti" | "token")}>
            <option value="jti">token id (jti)</option>
            <option value="token">the whole token</option>
          </select>
        </label>
        <label for="revoke-value" class="grow">{by === "jti" ? "Token id" : "Token"}
          <input id="revoke-value" required value={value} spellcheck={false} autocomplete="off" onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="danger" disabled={!value.trim()}>Revoke</button>
      </form>
      {message && <p role="status">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}

/** `#/admin`: jobs, quotas, token revocation and maintenance passes. */
export function Admin() {
  return (
    <section class="admin" aria-labelledby="admin-title">
      <h2 id="admin-title">Admin</h2>
      <Jobs />
      <Quotas />
      <Tokens />
      <Maintenance />
    </section>
  );
}
