import type { Rendition } from "./hls.js";

/**
 * The MPEG-DASH manifest of a ladder (DESIGN §10 "Interfaces and integrations"). HLS and
 * DASH share one ladder: the rungs are fragmented MP4 (CMAF-style init segment + media
 * segments), which both protocols play, so the MPD only lists the files the HLS rung
 * playlists already name. Pure: it reads playlist text and writes XML.
 */

export const DASH_MANIFEST = "manifest.mpd";

/**
 * Where the MPD (served at `/a/:id/dash/manifest.mpd`) finds the ladder's files: the HLS
 * directory beside it, so each segment has one URL for both players and a CDN caches it once.
 */
export const LADDER_FROM_MANIFEST = "../hls/";

export interface RungSegments {
  /** The init segment, relative to the rung's directory (`init_0.mp4`). */
  init: string;
  /** Media segments in order, relative to the rung's directory, with their durations (s). */
  segments: ReadonlyArray<{ name: string; duration: number }>;
}

/**
 * The init segment and media segments of one fMP4 rung playlist (what ffmpeg writes for
 * `-hls_segment_type fmp4`). Throws when the playlist is not one: a ladder whose MPD would
 * name nothing must fail, not be stored.
 */
export function parseRungPlaylist(text: string): RungSegments {
  let init: string | undefined;
  let duration: number | undefined;
  const segments: Array<{ name: string; duration: number }> = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const map = /^#EXT-X-MAP:.*URI="([^"]+)"/.exec(line);
    if (map) init = map[1];
    const inf = /^#EXTINF:([0-9.]+)/.exec(line);
    if (inf) duration = Number(inf[1]);
    if (line !== "" && !line.startsWith("#")) {
      if (duration === undefined || !(duration > 0)) throw new Error(`segment ${line} has no duration`);
      segments.push({ name: line, duration });
      duration = undefined;
    }
  }
  if (!init) throw new Error("the rung playlist has no EXT-X-MAP (not fragmented MP4)");
  if (segments.length === 0) throw new Error("the rung playlist lists no segments");
  return { init, segments };
}

/** An ISO 8601 duration with millisecond precision, as MPD attributes take it. */
export function isoDuration(seconds: number): string {
  return `PT${(Math.round(seconds * 1000) / 1000).toFixed(3)}S`;
}

const TIMESCALE = 1000;

/** `<S>` entries of a SegmentTimeline, runs of equal durations folded into `r`. */
function timeline(segments: RungSegments["segments"]): string[] {
  const entries: string[] = [];
  let start = 0;
  let index = 0;
  while (index < segments.length) {
    const d = Math.round(segments[index]!.duration * TIMESCALE);
    let repeat = 0;
    while (index + repeat + 1 < segments.length && Math.round(segments[index + repeat + 1]!.duration * TIMESCALE) === d) repeat++;
    entries.push(`<S t="${start}" d="${d}"${repeat > 0 ? ` r="${repeat}"` : ""}/>`);
    start += d * (repeat + 1);
    index += repeat + 1;
  }
  return entries;
}

/** A value escaped for a double-quoted XML attribute. */
export const xmlAttribute = (value: string): string => value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/**
 * A static MPD with one video AdaptationSet of every rung (audio muxed into each, as in
 * the HLS rungs). Segments are listed one by one (SegmentList + SegmentTimeline, exact
 * durations) rather than by template, so a manifest served through a signed URL can sign
 * every segment URL like a playlist's.
 */
export function dashManifest(renditions: readonly Rendition[], rungs: ReadonlyMap<string, RungSegments>, options: { audio: boolean }): string {
  let total = 0;
  const representations: string[] = [];
  for (const r of renditions) {
    const rung = rungs.get(r.name);
    if (!rung) throw new Error(`no segments for rung ${r.name}`);
    total = Math.max(total, rung.segments.reduce((sum, s) => sum + s.duration, 0));
    const bandwidth = options.audio ? r.bandwidth : r.bandwidth - parseInt(r.audioBitrate, 10) * 1000;
    const codecs = options.audio ? `${r.videoCodec},mp4a.40.2` : r.videoCodec;
    representations.push(
      `      <Representation id="${xmlAttribute(r.name)}" bandwidth="${bandwidth}" width="${r.width}" height="${r.height}" codecs="${codecs}">`,
      `        <SegmentList timescale="${TIMESCALE}">`,
      `          <Initialization sourceURL="${xmlAttribute(`${LADDER_FROM_MANIFEST}${r.name}/${rung.init}`)}"/>`,
      `          <SegmentTimeline>${timeline(rung.segments).join("")}</SegmentTimeline>`,
      ...rung.segments.map((s) => `          <SegmentURL media="${xmlAttribute(`${LADDER_FROM_MANIFEST}${r.name}/${s.name}`)}"/>`),
      "        </SegmentList>",
      "      </Representation>",
    );
  }
  const longest = Math.max(...renditions.map((r) => Math.max(...rungs.get(r.name)!.segments.map((s) => s.duration))));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-main:2011" type="static"` +
      ` mediaPresentationDuration="${isoDuration(total)}" minBufferTime="${isoDuration(longest)}">`,
    `  <Period id="0" start="PT0S">`,
    `    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">`,
    ...representations,
    "    </AdaptationSet>",
    "  </Period>",
    "</MPD>",
    "",
  ].join("\n");
}
