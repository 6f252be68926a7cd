import { useEffect, useState } from "preact/hooks";
import { Grants } from "./acl";
import { api, fetchBlob, formatBytes, type AssetEvent, type Manifest, type Variant } from "./api";
import { Playground } from "./playground";
import { VideoPlayer } from "./video";

function useLoad<T>(url: string, deps: unknown[] = []): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    api<T>(url).then((d) => { if (live) { setData(d); setError(null); } }).catch((e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [url, tick, ...deps]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

function Facts({ asset }: { asset: Manifest }) {
  const meta = asset.meta ?? {};
  const { exif, ...rest } = meta as { exif?: Record<string, unknown> };
  const rows: [string, unknown][] = [
    ["id", asset.id], ["status", asset.status], ["type", asset.contentType], ["kind", asset.kind], ["size", formatBytes(asset.size)],
    ["sha256", asset.sha256], ["public", asset.public ? "yes" : "no"], ["owner", asset.owner], ["created", asset.createdAt], ["updated", asset.updatedAt],
    ...Object.entries(rest).filter(([, v]) => v !== null && typeof v !== "object"),
  ];
  return (
    <section aria-labelledby="meta-title">
      <h3 id="meta-title">Metadata</h3>
      {asset.failure && <p class="error">Failed: {asset.failure.code} — {asset.failure.message}</p>}
      <dl class="facts-list">{rows.filter(([, v]) => v !== undefined).map(([k, v]) => <><dt>{k}</dt><dd>{String(v)}</dd></>)}</dl>
      {exif && Object.keys(exif).length > 0 && (
        <>
          <h4>EXIF</h4>
          <dl class="facts-list">{Object.entries(exif).map(([k, v]) => <><dt>{k}</dt><dd>{typeof v === "object" ? JSON.stringify(v) : String(v)}</dd></>)}</dl>
        </>
      )}
    </section>
  );
}

function Timeline({ id, status }: { id: string; status: string }) {
  const { data, error } = useLoad<{ items: AssetEvent[] }>(`/v1/assets/${id}/events`, [status]);
  return (
    <section aria-labelledby="events-title">
      <h3 id="events-title">State history</h3>
      {error && <p class="error">{error}</p>}
      <ol class="timeline">
        {data?.items.map((e) => (
          <li><time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time> <strong>{e.from ?? "∅"} → {e.to}</strong> <span>{e.reason}</span></li>
        ))}
      </ol>
    </section>
  );
}

function Tags({ asset, onSaved }: { asset: Manifest; onSaved: (m: Manifest) => void }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const patch = async (tags: Record<string, string | null>) => {
    try {
      onSaved(await api<Manifest>(`/v1/assets/${asset.id}`, { method: "PATCH", body: JSON.stringify({ tags }) }));
      setError(null);
    } catch (e) { setError((e as Error).message); }
  };
  return (
    <section aria-labelledby="tags-title">
      <h3 id="tags-title">Tags</h3>
      <ul class="tags">
        {Object.entries(asset.tags).map(([k, v]) => (
          <li>{k}={v} <button type="button" class="link" aria-label={`Remove tag ${k}`} onClick={() => patch({ [k]: null })}>×</button></li>
        ))}
        {Object.keys(asset.tags).length === 0 && <li class="hint">none</li>}
      </ul>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); if (key) void patch({ [key]: value }).then(() => { setKey(""); setValue(""); }); }}>
        <label>Key <input name="tag-key" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} /></label>
        <label>Value <input name="tag-value" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" disabled={!key}>Add tag</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}

function Variants({ id, tick }: { id: string; tick: number }) {
  const { data, error } = useLoad<{ items: Variant[] }>(`/v1/assets/${id}/variants`, [tick]);
  return (
    <section aria-labelledby="variants-title">
      <h3 id="variants-title">Variants</h3>
      {error && <p class="hint">{error}</p>}
      {data && (data.items.length === 0 ? <p class="hint">none stored yet</p> : (
        <table class="variants">
          <thead><tr><th>recipe</th><th>type</th><th>size</th><th>hits</th><th>from</th></tr></thead>
          <tbody>{data.items.map((v) => (
            <tr><td><code>{v.recipe}</code></td><td>{v.contentType}</td><td>{formatBytes(v.size)}</td><td>{v.hits}</td><td>{v.parent ? "intermediate" : "original"}</td></tr>
          ))}</tbody>
        </table>
      ))}
    </section>
  );
}

function SignedUrl({ asset }: { asset: Manifest }) {
  const [query, setQuery] = useState("w=300&fmt=webp");
  const [ttl, setTtl] = useState(3600);
  const [result, setResult] = useState<{ url: string; expiresAt: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const make = async (e: Event) => {
    e.preventDefault();
    try {
      setResult(await api(`/v1/assets/${asset.id}/signed-url`, {
        method: "POST", body: JSON.stringify({ ...(query ? { query } : {}), expiresIn: ttl, ...(asset.kind === "video" && query === "hls" ? { hls: true, query: undefined } : {}) }),
      }));
      setError(null);
    } catch (err) { setError((err as Error).message); }
  };
  return (
    <section aria-labelledby="sign-title">
      <h3 id="sign-title">Signed URL</h3>
      <form class="inline" onSubmit={make}>
        <label>Transform <input name="sign-query" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} /></label>
        <label>Expires in (s) <input name="sign-ttl" type="number" min={1} max={604800} value={ttl} onInput={(e) => setTtl(Number((e.target as HTMLInputElement).value))} /></label>
        <button type="submit">Make URL</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {result && <p><output class="url" data-testid="signed-url">{result.url}</output> <CopyButton text={result.url} /> <span class="hint">until {new Date(result.expiresAt).toLocaleString()}</span></p>}
    </section>
  );
}

export function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button type="button" onClick={() => navigator.clipboard?.writeText(text).then(() => { setCopied(true); setTimeout(() => setCopied(false), 1500); })}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

/** The original, fetched with the token (a private asset's URL needs it) and saved under its filename. */
function DownloadButton({ asset }: { asset: Manifest }) {
  const [error, setError] = useState<string | null>(null);
  const download = async () => {
    try {
      const { blob } = await fetchBlob(`/a/${encodeURIComponent(asset.id)}`);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = asset.filename;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (e) { setError((e as Error).message); }
  };
  return <>{" "}<button type="button" onClick={download}>Download original</button>{error && <span class="error" role="alert"> {error}</span>}</>;
}

function TrashButton({ id }: { id: string }) {
  const [error, setError] = useState<string | null>(null);
  const trash = async () => {
    if (!confirm("Move this asset to the trash? It can be restored for a while.")) return;
    try {
      await api(`/v1/assets/${id}`, { method: "DELETE" });
      location.hash = "#/";
    } catch (e) { setError((e as Error).message); }
  };
  return <>{" "}<button type="button" class="danger" onClick={trash}>Move to trash</button>{error && <span class="error" role="alert"> {error}</span>}</>;
}

/** One asset: preview and playground, facts, history, tags, variants, sharing. */
export function AssetPage({ id }: { id: string }) {
  const { data: loaded, error } = useLoad<Manifest>(`/v1/assets/${id}`);
  const [asset, setAsset] = useState<Manifest | null>(null);
  const [renders, setRenders] = useState(0);
  useEffect(() => { if (loaded) setAsset(loaded); }, [loaded]);
  // Until its jobs are done the asset moves on: look again every second.
  useEffect(() => {
    if (!asset || !["pending", "uploaded", "verified"].includes(asset.status)) return;
    const timer = setTimeout(() => api<Manifest>(`/v1/assets/${id}`).then(setAsset).catch(() => {}), 1000);
    return () => clearTimeout(timer);
  }, [asset]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!asset) return <p class="hint">Loading…</p>;
  return (
    <article class="asset-page" aria-labelledby="asset-title">
      <p><a href="#/">← Library</a></p>
      <h2 id="asset-title">{asset.filename}</h2>
      {asset.kind === "video" && asset.status === "ready" && <VideoPlayer asset={asset} />}
      {asset.urls.thumb !== undefined && ["ready", "verified"].includes(asset.status)
        ? <Playground asset={asset} onRendered={() => setRenders((n) => n + 1)} />
        : null}
      <p class="actions">
        <DownloadButton asset={asset} />
        {asset.owner !== undefined && asset.status !== "deleted" && <TrashButton id={asset.id} />}
      </p>
      <div class="columns">
        <Facts asset={asset} />
        <div>
          <Tags asset={asset} onSaved={setAsset} />
          <Timeline id={asset.id} status={asset.status} />
          <Variants id={asset.id} tick={renders} />
          {asset.owner !== undefined && <Grants id={asset.id} onChanged={() => api<Manifest>(`/v1/assets/${id}`).then(setAsset).catch(() => {})} />}
          <SignedUrl asset={asset} />
        </div>
      </div>
    </article>
  );
}
