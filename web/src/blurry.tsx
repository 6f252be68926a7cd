import { decode, isBlurhashValid } from "blurhash";
import { useEffect, useRef, useState } from "preact/hooks";
import { fetchBlob } from "./api";

/** The blurhash painted into a small canvas (stretched by CSS) while the real image loads. */
export function BlurhashCanvas({ hash, color }: { hash: string | undefined; color: string | undefined }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const target = canvas.current;
    if (!target || !hash || !isBlurhashValid(hash).result) return;
    const pixels = decode(hash, 32, 32);
    const context = target.getContext("2d");
    if (!context) return;
    const image = context.createImageData(32, 32);
    image.data.set(pixels);
    context.putImageData(image, 0, 0);
  }, [hash]);
  return <canvas ref={canvas} width={32} height={32} class="placeholder" aria-hidden="true" style={color ? { background: color } : undefined} data-blurhash={hash ?? ""} />;
}

/**
 * An image fetched with the bearer token (private assets cannot be read by a bare <img
 * src>) and shown through an object URL, over its blurhash placeholder.
 */
export function AuthImage({ src, alt, hash, color, onLoaded, className }: {
  src: string; alt: string; hash?: string | undefined; color?: string | undefined; className?: string;
  onLoaded?: (info: { response: Response; blob: Blob; image: HTMLImageElement; ms: number }) => void;
}) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState(false);
  const started = useRef(0);
  const fetched = useRef<{ response: Response; blob: Blob } | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    let objectUrl: string | null = null;
    setError(null);
    started.current = performance.now();
    fetchBlob(src, abort.signal).then((result) => {
      fetched.current = result;
      objectUrl = URL.createObjectURL(result.blob);
      setUrl(objectUrl);
    }).catch((e: Error) => { if (!abort.signal.aborted) setError(e.message); });
    return () => { abort.abort(); if (objectUrl) URL.revokeObjectURL(objectUrl); };
  }, [src]);
  return (
    <div class={`auth-image ${className ?? ""}`}>
      {!shown && <BlurhashCanvas hash={hash} color={color} />}
      {url && (
        <img src={url} alt={alt} data-src={src} class={shown ? "loaded" : ""}
          onLoad={(e) => {
            setShown(true);
            if (fetched.current) onLoaded?.({ ...fetched.current, image: e.target as HTMLImageElement, ms: performance.now() - started.current });
          }} />
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
