import type { AssetMeta } from "../../ports/repos.js";

/**
 * Turns ffprobe's `-show_format -show_streams` JSON into manifest facts. Pure, and
 * defensive: the JSON describes an uploaded file, so every field may be missing or odd.
 */

interface Fields { [key: string]: unknown }

const isFields = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);

/** ffprobe prints most numbers as strings ("6.000000", "48000"). */
function toNumber(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

const positive = (v: unknown): number | undefined => {
  const n = toNumber(v);
  return n !== undefined && n > 0 ? n : undefined;
};

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** "30/1" -> 30, "30000/1001" -> 29.97; "0/0" (unknown) -> undefined. */
export function parseRate(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  const [num, den = "1"] = v.split("/");
  const rate = Number(num) / Number(den);
  return Number.isFinite(rate) && rate > 0 ? Math.round(rate * 1000) / 1000 : undefined;
}

/**
 * The display rotation in degrees as ffprobe reports it: the display matrix side data
 * (ffmpeg >= 5 prints `rotation`, e.g. -90 for a phone's portrait clip), or the older
 * `rotate` stream tag (ffmpeg 4, e.g. "90"). 0 when neither is present.
 */
export function rotationOf(stream: Fields): number {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const entry of sideData) {
    if (isFields(entry)) {
      const rotation = toNumber(entry.rotation);
      if (rotation !== undefined) return rotation;
    }
  }
  const tags = isFields(stream.tags) ? stream.tags : {};
  return toNumber(tags.rotate) ?? 0;
}

/** A quarter turn either way (90, -90, 270) swaps the displayed width and height. */
export const isQuarterTurn = (degrees: number): boolean => Math.abs(Math.round(degrees / 90)) % 2 === 1;

const streamsOfType = (streams: Fields[], type: string) => streams.filter((s) => s.codec_type === type);

/** Cover art in audio files appears as a one-frame video stream flagged `attached_pic`. */
const isCoverArt = (s: Fields) => isFields(s.disposition) && toNumber(s.disposition.attached_pic) === 1;

export interface ProbeFacts {
  meta: AssetMeta;
  hasVideo: boolean;
  hasAudio: boolean;
}

export function factsFromFfprobe(output: unknown): ProbeFacts {
  const root = isFields(output) ? output : {};
  const format = isFields(root.format) ? root.format : {};
  const streams = (Array.isArray(root.streams) ? root.streams : []).filter(isFields);

  const video = streamsOfType(streams, "video").find((s) => !isCoverArt(s));
  const audio = streamsOfType(streams, "audio")[0];

  const streamDurations = streams.map((s) => positive(s.duration)).filter((d): d is number => d !== undefined);
  const duration = positive(format.duration) ?? (streamDurations.length ? Math.max(...streamDurations) : undefined);

  const meta: AssetMeta = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) meta[key] = value;
  };

  set("duration", duration);
  set("container", text(format.format_name));
  set("bitRate", positive(format.bit_rate));

  if (video) {
    const rotation = rotationOf(video);
    const storedWidth = positive(video.width);
    const storedHeight = positive(video.height);
    const swap = isQuarterTurn(rotation);
    // Report the size as displayed: players (and our poster frames) apply the rotation.
    set("width", swap ? storedHeight : storedWidth);
    set("height", swap ? storedWidth : storedHeight);
    set("rotation", rotation);
    set("videoCodec", text(video.codec_name));
    set("frameRate", parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate));
    set("pixelFormat", text(video.pix_fmt));
  }
  if (audio) {
    set("audioCodec", text(audio.codec_name));
    set("channels", positive(audio.channels));
    set("sampleRate", positive(audio.sample_rate));
  }

  return { meta, hasVideo: video !== undefined, hasAudio: audio !== undefined };
}
