import { isSha256Hex } from "./content-address.js";

/**
 * The HLS ladder (DESIGN §5 "Video"): which renditions a source gets, where they live in
 * the store and what the master playlist says. Pure: no ffmpeg, no I/O.
 *
 * Bump LADDER_VERSION whenever the output changes (rungs, bitrates, encoder settings,
 * segment format): the store prefix includes it, so a new ladder never mixes with files of
 * an old one. h2: fragmented MP4 segments (shared with the DASH manifest) instead of MPEG-TS.
 */
export const LADDER_VERSION = "h2";

export interface Rendition {
  /** "1080p", "720p", "480p", "360p", or "<short side>p" for a source below 360p. */
  name: string;
  /** Output size: even numbers, source aspect ratio kept (display size, after rotation). */
  width: number;
  height: number;
  /** Target video bitrate as ffmpeg takes it, e.g. "2800k". */
  videoBitrate: string;
  /** Peak video bitrate (`-maxrate`), e.g. "2996k"; the VBV buffer is twice the target. */
  videoMaxrate: string;
  audioBitrate: string;
  /** H.264 level, e.g. "3.1": declared to the encoder and in CODECS. */
  level: string;
  /** RFC 6381 codec of the video, e.g. "avc1.64001f" (High profile, level 3.1). */
  videoCodec: string;
  /** Peak bits per second of video + audio, for `#EXT-X-STREAM-INF:BANDWIDTH`. */
  bandwidth: number;
}

/** Short-side rungs, best first, with their target video bitrates (kbit/s). */
const RUNGS: ReadonlyArray<{ short: number; kbps: number }> = [
  { short: 1080, kbps: 5000 },
  { short: 720, kbps: 2800 },
  { short: 480, kbps: 1400 },
  { short: 360, kbps: 800 },
];

const AUDIO_KBPS = 128;
/** Peak over target: `-maxrate` and BANDWIDTH (players pick a rung by it). */
const PEAK_FACTOR = 1.07;
/** The lowest bitrate a below-360p rung gets. */
const MIN_KBPS = 200;

/** H.264 levels (Annex A): max macroblocks/s, max frame size in macroblocks, max High-profile bitrate (kbit/s). */
const LEVELS: ReadonlyArray<{ level: string; idc: number; mbps: number; fs: number; kbps: number }> = [
  { level: "3.0", idc: 30, mbps: 40_500, fs: 1_620, kbps: 12_500 },
  { level: "3.1", idc: 31, mbps: 108_000, fs: 3_600, kbps: 17_500 },
  { level: "3.2", idc: 32, mbps: 216_000, fs: 5_120, kbps: 25_000 },
  { level: "4.0", idc: 40, mbps: 245_760, fs: 8_192, kbps: 25_000 },
  { level: "4.1", idc: 41, mbps: 245_760, fs: 8_192, kbps: 62_500 },
  { level: "4.2", idc: 42, mbps: 522_240, fs: 8_704, kbps: 62_500 },
  { level: "5.0", idc: 50, mbps: 589_824, fs: 22_080, kbps: 168_750 },
  { level: "5.1", idc: 51, mbps: 983_040, fs: 36_864, kbps: 300_000 },
  { level: "5.2", idc: 52, mbps: 2_073_600, fs: 36_864, kbps: 300_000 },
  { level: "6.0", idc: 60, mbps: 4_177_920, fs: 139_264, kbps: 300_000 },
  { level: "6.1", idc: 61, mbps: 8_355_840, fs: 139_264, kbps: 600_000 },
  { level: "6.2", idc: 62, mbps: 16_711_680, fs: 139_264, kbps: 1_000_000 },
];

/** The lowest H.264 level that fits a size, frame rate and peak bitrate. */
export function h264Level(width: number, height: number, frameRate: number, peakKbps: number): { level: string; idc: number } {
  const frameMbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const fits = LEVELS.find((l) => frameMbs <= l.fs && frameMbs * frameRate <= l.mbps && peakKbps <= l.kbps);
  const { level, idc } = fits ?? LEVELS[LEVELS.length - 1]!;
  return { level, idc };
}

const evenRound = (n: number) => Math.max(2, Math.round(n / 2) * 2);
const evenFloor = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

function rendition(name: string, width: number, height: number, videoKbps: number, frameRate: number): Rendition {
  const peakKbps = Math.round(videoKbps * PEAK_FACTOR);
  const { level, idc } = h264Level(width, height, frameRate, peakKbps);
  return {
    name, width, height,
    videoBitrate: `${videoKbps}k`,
    videoMaxrate: `${peakKbps}k`,
    audioBitrate: `${AUDIO_KBPS}k`,
    level,
    // 0x64 = High profile, 0x00 = no constraint flags, then the level_idc.
    videoCodec: `avc1.6400${idc.toString(16).padStart(2, "0")}`,
    bandwidth: (peakKbps + AUDIO_KBPS) * 1000,
  };
}

/**
 * The renditions for a source of `width` x `height` as displayed (after rotation). Rungs are
 * named by the short side, so a 360x640 portrait clip gets "360p" at 360x640; no rung is
 * above the source; a source whose short side is below 360 gets a single rung at its own
 * size (rounded down to even numbers). `frameRate` (default 30) only picks the H.264 level.
 */
export function planLadder(width: number, height: number, frameRate = 30): Rendition[] {
  if (!(Number.isFinite(width) && Number.isFinite(height) && width >= 1 && height >= 1)) {
    throw new RangeError(`invalid source size ${width}x${height}`);
  }
  const fps = Number.isFinite(frameRate) && frameRate > 0 ? frameRate : 30;
  const portrait = height > width;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const size = (shortSide: number, longSide: number) =>
    portrait ? { width: shortSide, height: longSide } : { width: longSide, height: shortSide };

  const rungs = RUNGS.filter((r) => r.short <= short);
  if (rungs.length === 0) {
    const { width: w, height: h } = size(evenFloor(short), evenFloor(long));
    const pixelShare = (w * h) / (640 * 360);
    const kbps = Math.max(MIN_KBPS, Math.round((800 * pixelShare) / 10) * 10);
    return [rendition(`${Math.min(w, h)}p`, w, h, kbps, fps)];
  }
  return rungs.map((r) => {
    const { width: w, height: h } = size(r.short, evenRound((r.short * long) / short));
    return rendition(`${r.short}p`, w, h, r.kbps, fps);
  });
}

/** `hls/ab/cd/<sha256>/h1`: one ladder per content hash and ladder version. */
export function hlsPrefix(sha256: string): string {
  if (!isSha256Hex(sha256)) throw new Error(`not a sha256 hex digest: ${sha256}`);
  return `hls/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}/${LADDER_VERSION}`;
}

export const MASTER_PLAYLIST = "master.m3u8";

/**
 * Served names: `master.m3u8`, `manifest.mpd` (DASH), `<rung>/index.m3u8`, the rung's init
 * segment `<rung>/init_0.mp4` (`init.mp4` in a one-rung ladder) and its media segments `<rung>/seg_00000.m4s`. Nothing else.
 */
const HLS_FILE = /^(?:master\.m3u8|manifest\.mpd|\d{2,4}p\/(?:index\.m3u8|init(?:_\d{1,2})?\.mp4|seg_\d{5}\.m4s))$/;

/** The allow-list for paths under `/a/:id/hls/`: no `..`, no slashes beyond one rung level. */
export function isHlsFileName(name: string): boolean {
  return HLS_FILE.test(name);
}

/** The store key of one file of a ladder; throws for a name outside the allow-list. */
export function hlsKey(sha256: string, name: string): string {
  if (!isHlsFileName(name)) throw new Error(`not an HLS file name: ${name}`);
  return `${hlsPrefix(sha256)}/${name}`;
}

export function hlsContentType(name: string): string {
  if (name.endsWith(".m3u8")) return "application/vnd.apple.mpegurl";
  if (name.endsWith(".mpd")) return "application/dash+xml";
  // RFC 8954 registers video/iso.segment for media segments; init segments are plain MP4.
  return name.endsWith(".m4s") ? "video/iso.segment" : "video/mp4";
}

/** The master playlist; rung playlists are at `<name>/index.m3u8` beside it. */
export function masterPlaylist(renditions: readonly Rendition[], options: { audio?: boolean } = {}): string {
  const audio = options.audio ?? true;
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const r of renditions) {
    const bandwidth = audio ? r.bandwidth : r.bandwidth - parseInt(r.audioBitrate, 10) * 1000;
    const codecs = audio ? `${r.videoCodec},mp4a.40.2` : r.videoCodec;
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${r.width}x${r.height},CODECS="${codecs}"`);
    lines.push(`${r.name}/index.m3u8`);
  }
  return lines.join("\n") + "\n";
}
