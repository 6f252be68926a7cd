import { useEffect, useState } from "preact/hooks";
import { deliveryUrl, formatBytes, type Manifest } from "./api";
import { CopyButton } from "./asset";
import { AuthImage } from "./blurry";

type Params = Record<string, string>;
const FITS = ["", "cover", "contain", "fill", "inside", "outside"];
const FORMATS = ["", "auto", "jpeg", "png", "webp", "avif", "gif"];
const POSITIONS = ["", "center", "top", "right top", "right", "right bottom", "bottom", "left bottom", "left", "left top", "entropy", "attention"];

interface Rendered { width: number; height: number; bytes: number; type: string; ms: number; cache: string | null; timing: string | null }

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function Field({ label, name, children }: { label: string; name: string; children: preact.ComponentChildren }) {
  return <label class="field" for={`pg-${name}`}><span>{label}</span>{children}</label>;
}

/** Sliders and choices → a live rendering with its real size, bytes, format and time → the URL. */
export function Playground({ asset, onRendered }: { asset: Manifest; onRendered: () => void }) {
  const meta = asset.meta ?? {};
  const sourceWidth = Number(meta.width) || 2048;
  const pages = Number(meta.pages) || 0;
  const [params, setParams] = useState<Params>({ w: String(Math.min(640, sourceWidth)), fmt: "webp", q: "80" });
  const settled = useDebounced(params, 250);
  const [rendered, setRendered] = useState<Rendered | null>(null);
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(settled)) if (v !== "") query[k] = v;
  const path = deliveryUrl(asset.id, query);
  const absolute = `${location.origin}${path}`;
  const widths = [320, 640, 960, 1280, 1920].filter((w) => w <= sourceWidth);
  const srcset = widths.map((w) => `${location.origin}${deliveryUrl(asset.id, { ...query, w, dpr: undefined })} ${w}w`).join(",\n        ");
  const snippet = `<img src="${absolute}"\n     srcset="${srcset}"\n     sizes="100vw" alt="${asset.filename}">`;

  const set = (key: string) => (e: Event) => {
    const target = e.target as HTMLInputElement;
    const value = target.type === "checkbox" ? (target.checked ? "1" : "") : target.value;
    setParams((p) => ({ ...p, [key]: value }));
  };
  const number = (key: string, label: string, min: number, max: number, step = 1) => (
    <Field label={label} name={key}>
      <input id={`pg-${key}`} name={key} type="range" min={min} max={max} step={step} value={params[key] || min}
        onInput={set(key)} aria-valuetext={params[key] || "unset"} />
      <input type="number" aria-label={`${label} value`} name={`${key}-value`} min={min} max={max} step={step} value={params[key] ?? ""} onInput={set(key)} />
    </Field>
  );
  const choice = (key: string, label: string, options: string[]) => (
    <Field label={label} name={key}>
      <select id={`pg-${key}`} name={key} value={params[key] ?? ""} onChange={set(key)}>
        {options.map((o) => <option value={o}>{o || "default"}</option>)}
      </select>
    </Field>
  );
  const flag = (key: string, label: string) => (
    <Field label={label} name={key}>
      <input id={`pg-${key}`} name={key} type="checkbox" checked={params[key] === "1"} onChange={set(key)} />
    </Field>
  );

  return (
    <section class="playground" aria-labelledby="pg-title">
      <h3 id="pg-title">Transform playground</h3>
      <div class="pg-layout">
        <form class="pg-controls" onSubmit={(e) => e.preventDefault()}>
          {number("w", "Width (w)", 1, Math.min(8192, Math.max(sourceWidth, 64)))}
          {number("h", "Height (h)", 1, Math.min(8192, Math.max(Number(meta.height) || 2048, 64)))}
          {choice("fit", "Fit", FITS)}
          {choice("pos", "Position", POSITIONS)}
          {choice("fmt", "Format (fmt)", FORMATS)}
          {number("q", "Quality (q)", 1, 100)}
          {number("dpr", "Pixel ratio (dpr)", 1, 4)}
          {choice("rotate", "Rotate", ["", "90", "180", "270"])}
          {number("blur", "Blur", 0.3, 100, 0.1)}
          {number("sharpen", "Sharpen", 0.5, 10, 0.5)}
          {number("brightness", "Brightness", 0, 3, 0.05)}
          {number("contrast", "Contrast", 0, 3, 0.05)}
          {number("saturation", "Saturation", 0, 3, 0.05)}
          {number("trim", "Trim border (threshold)", 0, 255)}
          <Field label="Crop (x,y,w,h in source pixels)" name="crop">
            <input id="pg-crop" name="crop" placeholder="0,0,800,600" value={params.crop ?? ""} onInput={set("crop")} />
          </Field>
          <Field label="Byte budget (max_bytes)" name="max_bytes">
            <input id="pg-max_bytes" name="max_bytes" type="number" min={1024} step={1024} placeholder="e.g. 50000" value={params.max_bytes ?? ""} onInput={set("max_bytes")} />
          </Field>
          <Field label="Background (bg)" name="bg">
            <input id="pg-bg" name="bg" placeholder="fff or ff000080" value={params.bg ?? ""} onInput={set("bg")} />
          </Field>
          {flag("flip", "Flip")}
          {flag("flop", "Flop")}
          {flag("enlarge", "Enlarge")}
          <Field label="Keep metadata (strip=0)" name="strip">
            <input id="pg-strip" name="strip" type="checkbox" checked={params.strip === "0"}
              onChange={(e) => setParams((p) => ({ ...p, strip: (e.target as HTMLInputElement).checked ? "0" : "" }))} />
          </Field>
          {pages > 1 && number("page", `Page (of ${pages})`, 1, pages)}
          {pages > 1 && (
            <div class="inline" role="group" aria-label="Pages">
              <button type="button" disabled={Number(params.page || 1) <= 1} onClick={() => setParams((p) => ({ ...p, page: String(Math.max(1, Number(p.page || 1) - 1)) }))}>← Previous page</button>
              <button type="button" disabled={Number(params.page || 1) >= pages} onClick={() => setParams((p) => ({ ...p, page: String(Math.min(pages, Number(p.page || 1) + 1)) }))}>Next page →</button>
            </div>
          )}
          {asset.kind === "video" && number("t", "Poster time (t, s)", 0, Math.ceil(Number(meta.duration) || 60), 0.5)}
          <button type="button" onClick={() => setParams({})}>Reset</button>
        </form>
        <div class="pg-preview">
          <AuthImage key={path} src={path} alt={`${asset.filename} transformed`} hash={meta.blurhash as string | undefined}
            color={meta.dominantColor as string | undefined} className="preview"
            onLoaded={({ response, blob, image, ms }) => {
              setRendered({
                width: image.naturalWidth, height: image.naturalHeight, bytes: blob.size,
                type: response.headers.get("content-type") ?? blob.type, ms, cache: response.headers.get("x-cache"), timing: response.headers.get("server-timing"),
              });
              onRendered();
            }} />
          {rendered && (
            <dl class="facts-list" aria-live="polite" data-testid="render-facts">
              <dt>natural size</dt><dd data-testid="natural-size">{rendered.width}×{rendered.height}</dd>
              <dt>bytes</dt><dd>{formatBytes(rendered.bytes)} ({rendered.bytes} B)</dd>
              <dt>format</dt><dd>{rendered.type}</dd>
              <dt>time</dt><dd>{Math.round(rendered.ms)} ms{rendered.cache ? ` (${rendered.cache})` : ""}</dd>
              {rendered.timing && <><dt>server</dt><dd>{rendered.timing}</dd></>}
            </dl>
          )}
          <label for="pg-url">URL</label>
          <div class="copy-row"><input id="pg-url" readOnly value={absolute} /><CopyButton text={absolute} /></div>
          <label for="pg-srcset">srcset snippet</label>
          <textarea id="pg-srcset" readOnly rows={6} value={snippet} />
          <CopyButton text={snippet} />
        </div>
      </div>
    </section>
  );
}
