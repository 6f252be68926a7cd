import type Hls from "hls.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { authHeaders, getToken, type Manifest } from "./api";

/**
 * The HLS ladder through hls.js (native HLS where hls.js cannot run). The first request
 * queues the transcode and answers 202: ask again after Retry-After until it is 200.
 */
export function VideoPlayer({ asset }: { asset: Manifest }) {
  const video = useRef<HTMLVideoElement>(null);
  const hls = useRef<Hls | null>(null);
  const [state, setState] = useState("checking the stream…");
  const [levels, setLevels] = useState<{ index: number; height: number; label: string }[]>([]);
  const [level, setLevel] = useState(-1);
  const master = `/a/${encodeURIComponent(asset.id)}/hls/master.m3u8`;

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const response = await fetch(master, { headers: authHeaders() }).catch(() => undefined);
      if (!live) return;
      if (!response) { setState("the server could not be reached"); return; }
      if (response.status === 202) {
        setState("transcoding… (the ladder is being made)");
        timer = setTimeout(poll, Math.min(10, Number(response.headers.get("retry-after")) || 2) * 1000);
        return;
      }
      if (!response.ok) {
        const text = await response.text();
        setState(`no stream: ${(() => { try { return JSON.parse(text).error.message; } catch { return response.status; } })()}`);
        return;
      }
      await start();
    };
    // hls.js is most of the console's weight: loaded only when a video plays.
    const start = async () => {
      const { default: Hls } = await import("hls.js");
      const element = video.current;
      if (!element || !live) return;
      setState("ready");
      if (Hls.isSupported()) {
        const player = new Hls({
          xhrSetup: (xhr) => { const token = getToken(); if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`); },
        });
        hls.current = player;
        player.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
          // Highest first, as a person reads a quality menu; `index` stays hls.js's own.
          const ladder = data.levels.map((l, index) => ({ index, height: l.height, label: `${l.height}p · ${Math.round(l.bitrate / 1000)} kb/s` }));
          setLevels(ladder.sort((a, b) => b.height - a.height));
        });
        player.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) setState(`playback error: ${data.details}`); });
        player.loadSource(master);
        player.attachMedia(element);
      } else if (element.canPlayType("application/vnd.apple.mpegurl")) {
        element.src = master;
      } else setState("this browser cannot play HLS");
    };
    void poll();
    return () => { live = false; if (timer) clearTimeout(timer); hls.current?.destroy(); hls.current = null; };
  }, [master]);

  const choose = (e: Event) => {
    const value = Number((e.target as HTMLSelectElement).value);
    setLevel(value);
    if (hls.current) hls.current.currentLevel = value;
  };
  return (
    <section class="video" aria-labelledby="video-title">
      <h3 id="video-title">Video (HLS)</h3>
      <video ref={video} controls muted playsInline class="player" aria-label={`${asset.filename} video`} />
      <p class="hint" aria-live="polite" data-testid="video-state">{state}</p>
      {levels.length > 0 && (
        <label>Rendition{" "}
          <select name="rendition" value={level} onChange={choose}>
            <option value={-1}>auto</option>
            {levels.map((l) => <option value={l.index}>{l.label}</option>)}
          </select>
        </label>
      )}
    </section>
  );
}
