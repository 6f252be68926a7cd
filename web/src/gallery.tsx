import { useEffect, useRef, useState } from "preact/hooks";
import { api, deliveryUrl, formatBytes, type Manifest } from "./api";
import { AuthImage } from "./blurry";

interface Filters { type: string; status: string; tag: string; q: string }
const PAGE = 24;

function listUrl(filters: Filters, cursor: string | null): string {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (filters.type) query.set("type", filters.type);
  if (filters.status) query.set("status", filters.status);
  for (const tag of filters.tag.split(",").map((t) => t.trim()).filter(Boolean)) query.append("tag", tag.replace("=", ":"));
  if (filters.q) query.set("q", filters.q);
  if (cursor) query.set("cursor", cursor);
  return `/v1/assets?${query}`;
}

/** Whether the service can render stills of it (manifests link presets only then). */
export const canPreview = (asset: Manifest): boolean => asset.urls.thumb !== undefined && (asset.status === "ready" || asset.status === "verified");

const UNSETTLED = ["pending", "uploaded", "verified"];

function Tile({ asset: listed }: { asset: Manifest }) {
  // A fresh upload is still being scanned and described: follow it until it settles.
  const [asset, setAsset] = useState(listed);
  useEffect(() => setAsset(listed), [listed]);
  useEffect(() => {
    if (!UNSETTLED.includes(asset.status)) return;
    const timer = setTimeout(() => api<Manifest>(`/v1/assets/${asset.id}`).then(setAsset).catch(() => {}), 1500);
    return () => clearTimeout(timer);
  }, [asset]);
  const meta = asset.meta ?? {};
  return (
    <li class="tile" data-id={asset.id}>
      <a href={`#/asset/${asset.id}`} aria-label={`${asset.filename}, ${asset.kind}, ${asset.status}`}>
        {canPreview(asset)
          ? <AuthImage src={deliveryUrl(asset.id, { w: 320, h: 240, fit: "cover", fmt: "webp" })} alt={asset.filename}
            hash={meta.blurhash as string | undefined} color={meta.dominantColor as string | undefined} />
          : <div class="auth-image kind">{asset.kind}</div>}
        <span class="caption">
          <span class="name">{asset.filename}</span>
          <span class="facts">{asset.status} · {formatBytes(asset.size)}</span>
        </span>
      </a>
    </li>
  );
}

/** The caller's assets, newest first, one page at a time as the end of the grid scrolls into view. */
export function Gallery({ refresh }: { refresh: number }) {
  const [filters, setFilters] = useState<Filters>({ type: "", status: "", tag: "", q: "" });
  const [items, setItems] = useState<Manifest[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const sentinel = useRef<HTMLDivElement>(null);
  const generation = useRef(0);

  const load = async (cursor: string | null, reset: boolean) => {
    const mine = reset ? ++generation.current : generation.current;
    setLoading(true);
    try {
      const page = await api<{ items: Manifest[]; next: string | null }>(listUrl(filters, cursor));
      if (mine !== generation.current) return;
      setItems((list) => (reset ? page.items : [...list, ...page.items.filter((a) => !list.some((b) => b.id === a.id))]));
      setNext(page.next);
      setDone(!page.next);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError((e as Error).message);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  // A new filter or a finished upload: start again from the newest.
  useEffect(() => { void load(null, true); }, [filters, refresh]);

  useEffect(() => {
    const target = sentinel.current;
    if (!target) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && next && !loading) void load(next, false);
    }, { rootMargin: "400px" });
    observer.observe(target);
    return () => observer.disconnect();
  }, [next, loading]);

  const set = (key: keyof Filters) => (e: Event) => setFilters((f) => ({ ...f, [key]: (e.target as HTMLInputElement).value }));
  return (
    <section class="gallery" aria-labelledby="gallery-title">
      <h2 id="gallery-title">Assets</h2>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>Search <input type="search" name="q" placeholder="filename contains" onChange={set("q")} /></label>
        <label>Type
          <select name="type" onChange={set("type")}>
            <option value="">any</option>
            {["image", "video", "audio", "document", "other"].map((t) => <option value={t}>{t}</option>)}
          </select>
        </label>
        <label>Status
          <select name="status" onChange={set("status")}>
            <option value="">any</option>
            {["ready", "verified", "failed", "quarantined", "deleted"].map((s) => <option value={s}>{s}</option>)}
          </select>
        </label>
        <label>Tags <input name="tag" placeholder="album:trip, k:v" onChange={set("tag")} /></label>
      </form>
      {error && <p class="error" role="alert">Could not list assets: {error}</p>}
      <ul class="grid" aria-label="Assets" aria-busy={loading}>
        {items.map((asset) => <Tile key={asset.id} asset={asset} />)}
      </ul>
      <div ref={sentinel} class="sentinel" aria-hidden="true" />
      <p class="hint" aria-live="polite">{loading ? "Loading…" : done ? (items.length ? `${items.length} assets` : "Nothing here yet.") : ""}</p>
    </section>
  );
}
