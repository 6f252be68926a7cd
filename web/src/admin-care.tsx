import { useState } from "preact/hooks";
import { api, formatBytes } from "./api";

interface GcReport { dryRun: boolean; durationMs: number; found: number; removed: number; bytesCollected: number; errors: number }
type Pass = "gc-dry" | "gc" | "scrub" | "lifecycle";

const PASSES: { pass: Pass; label: string; path: string; body: object }[] = [
  { pass: "gc-dry", label: "GC dry run", path: "/v1/admin/gc", body: { dryRun: true } },
  { pass: "gc", label: "Run GC", path: "/v1/admin/gc", body: {} },
  { pass: "scrub", label: "Run scrub", path: "/v1/admin/scrub", body: {} },
  { pass: "lifecycle", label: "Run lifecycle", path: "/v1/admin/lifecycle", body: {} },
];

/** POST /v1/admin/{gc,scrub,lifecycle}: run a pass now and show its report. */
export function Maintenance() {
  const [busy, setBusy] = useState<Pass | null>(null);
  const [dryRunDone, setDryRunDone] = useState(false);
  const [report, setReport] = useState<{ pass: Pass; body: unknown } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (pass: Pass) => {
    const spec = PASSES.find((p) => p.pass === pass)!;
    if (pass === "gc" && !confirm("Remove what the dry run found? This cannot be undone.")) return;
    setBusy(pass);
    setError(null);
    try {
      const body = await api<unknown>(spec.path, { method: "POST", body: JSON.stringify(spec.body) });
      setReport({ pass, body });
      if (pass === "gc-dry") setDryRunDone(true);
    } catch (e) { setError(`${spec.label} failed: ${(e as Error).message}`); } finally { setBusy(null); }
  };
  const gc = report && (report.pass === "gc" || report.pass === "gc-dry") ? report.body as GcReport : null;
  return (
    <section aria-labelledby="care-title">
      <h3 id="care-title">Maintenance</h3>
      <p class="hint">Each pass also runs on its schedule. Run a GC dry run first: it reports what would go without removing anything.</p>
      <div class="actions">
        {PASSES.map((p) => (
          <button type="button" class={p.pass === "gc" ? "danger" : undefined} disabled={busy !== null || (p.pass === "gc" && !dryRunDone)}
            onClick={() => run(p.pass)}>{busy === p.pass ? "Running…" : p.label}</button>
        ))}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {report && (
        <div class="card report" data-testid="care-report" data-pass={report.pass} aria-live="polite">
          <h4>{PASSES.find((p) => p.pass === report.pass)!.label}: report</h4>
          {gc && (
            <dl class="facts-list" data-testid="gc-summary">
              <dt>dry run</dt><dd>{gc.dryRun ? "yes" : "no"}</dd>
              <dt>found</dt><dd data-testid="gc-found">{gc.found}</dd>
              <dt>removed</dt><dd data-testid="gc-removed">{gc.removed}</dd>
              <dt>bytes collected</dt><dd data-testid="gc-bytes" data-bytes={gc.bytesCollected}>{formatBytes(gc.bytesCollected)}</dd>
              <dt>errors</dt><dd>{gc.errors}</dd>
              <dt>took</dt><dd>{gc.durationMs} ms</dd>
            </dl>
          )}
          <details open={!gc}>
            <summary>Full report (JSON)</summary>
            <pre class="json">{JSON.stringify(report.body, null, 2)}</pre>
          </details>
        </div>
      )}
    </section>
  );
}
