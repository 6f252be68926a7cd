import { useRef, useState } from "preact/hooks";
import { formatBytes, uploadFile, type Manifest } from "./api";

/** Files at least this large (the client's direct-upload bound, 8 MiB) go up resumably over tus. */
const RESUMABLE_FROM = 8 * 1024 * 1024;
// The client and tus-js-client are loaded only when a large file comes.
const uploadResumable = (...args: Parameters<typeof uploadFile>) => import("./resumable").then((m) => m.uploadResumable(...args));

interface Item {
  key: number;
  name: string;
  size: number;
  sent: number;
  state: "queued" | "uploading" | "done" | "error";
  manifest?: Manifest;
  deduplicated?: boolean;
  error?: string;
}

const CONCURRENCY = 3;
let nextKey = 1;

/** Drag-and-drop (or pick) many files; each goes up on its own with its progress and outcome. */
export function Upload({ onUploaded }: { onUploaded: () => void }) {
  const [items, setItems] = useState<Item[]>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const queue = useRef<{ item: Item; file: File }[]>([]);
  const running = useRef(0);

  const update = (key: number, change: Partial<Item>) =>
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));

  const pump = () => {
    while (running.current < CONCURRENCY && queue.current.length) {
      const { item, file } = queue.current.shift()!;
      running.current++;
      update(item.key, { state: "uploading" });
      const send = file.size >= RESUMABLE_FROM ? uploadResumable : uploadFile;
      send(file, (sent) => update(item.key, { sent }))
        .then(({ manifest, deduplicated }) => {
          update(item.key, { state: "done", sent: item.size, manifest, deduplicated });
          onUploaded();
        })
        .catch((error: Error) => update(item.key, { state: "error", error: error.message }))
        .finally(() => { running.current--; pump(); });
    }
  };

  const add = (files: FileList | File[] | null) => {
    if (!files?.length) return;
    const added = [...files].map((file) => ({ item: { key: nextKey++, name: file.name, size: file.size, sent: 0, state: "queued" as const }, file }));
    setItems((list) => [...added.map((a) => a.item), ...list]);
    queue.current.push(...added);
    pump();
  };

  return (
    <section class="upload" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <div class={`dropzone${over ? " over" : ""}`} data-testid="dropzone"
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); add(e.dataTransfer?.files ?? null); }}>
        <p>Drop files here, or</p>
        <label class="button" for="file-input">Choose files…</label>
        <input id="file-input" ref={input} type="file" multiple class="visually-hidden"
          onChange={(e) => { add((e.target as HTMLInputElement).files); (e.target as HTMLInputElement).value = ""; }} />
      </div>
      {items.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {items.map((item) => {
            const percent = item.size ? Math.round((item.sent / item.size) * 100) : item.state === "done" ? 100 : 0;
            return (
              <li key={item.key} class={`upload-item ${item.state}`} data-name={item.name} data-state={item.state}>
                <span class="name">{item.name}</span>
                <span class="size">{formatBytes(item.size)}</span>
                <progress max={100} value={item.state === "done" ? 100 : percent} aria-label={`Upload of ${item.name}`} />
                <span class="percent">{item.state === "done" ? 100 : percent} %</span>
                <span class="outcome" role={item.state === "error" ? "alert" : undefined}>
                  {item.state === "queued" && "waiting"}
                  {item.state === "uploading" && "uploading…"}
                  {item.state === "done" && item.manifest && (
                    <>
                      {item.deduplicated === undefined ? "stored (resumable)" : item.deduplicated ? "deduplicated (bytes already stored)" : "new"} ·{" "}
                      <a href={`#/asset/${item.manifest.id}`}>{item.manifest.status}</a>
                    </>
                  )}
                  {item.state === "error" && <span class="error">Refused: {item.error}</span>}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
