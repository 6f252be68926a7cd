import { createRequire } from "node:module";
import type { MessagePort } from "node:worker_threads";
import { move, transferableSymbol, valueSymbol } from "piscina";
import type { ErrorCode } from "../../domain/errors.js";

/**
 * The worker-thread side of createHeifDecoder (heif-decode.ts): piscina loads this module in
 * each worker and calls the default export once per image. libheif (its WASM build, with
 * libde265 for HEVC) decodes synchronously for as long as an image takes, which is why it
 * runs here and not on the event loop. The thread may be terminated at any moment (the
 * pool's deadline), so nothing here holds state worth keeping.
 */

export interface DecodeTask {
  /** The whole HEIF file, transferred from the main thread. */
  bytes: Uint8Array;
  /** Refused without decoding when the primary image is larger (the header was checked already; this is the guard against a file that changed its story). */
  maxPixels: number;
  /** Told when this thread starts on the image: the pool's deadline runs from then. */
  started: MessagePort;
}

/** Interleaved 8-bit pixels of the primary image, upright (libheif applies irot/imir/clap). */
export interface DecodedPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** A failure travels as its catalog fields (structured clone keeps no class) and is rebuilt there. */
export type DecodeOutcome =
  | ({ ok: true } & DecodedPixels)
  | { ok: false; code: ErrorCode; message: string; details: Record<string, unknown> };

/* The parts of libheif-js's embind API used here (it ships no usable ESM types). */
interface HeifEnumValue { readonly value: number }
interface HeifChannel { id: HeifEnumValue; width: number; height: number; stride: number; data: Uint8Array }
interface HeifHandleWrapper { handle: unknown; get_width(): number; get_height(): number; is_primary(): boolean; has_alpha_channel(): boolean; free(): void }
interface LibHeif {
  ready?: Promise<unknown>;
  HeifDecoder: new () => { decoder: { delete(): void } | null; decode(bytes: Uint8Array): HeifHandleWrapper[] };
  heif_js_decode_image2(handle: unknown, colorspace: unknown, chroma: unknown): Promise<{ code?: unknown; message?: string; image: unknown; channels: HeifChannel[] } | undefined>;
  heif_image_release(image: unknown): void;
  heif_context_free(context: unknown): void;
  heif_colorspace_RGB: unknown;
  heif_chroma_interleaved_RGB: unknown;
  heif_chroma_interleaved_RGBA: unknown;
  heif_channel_interleaved: HeifEnumValue;
}

/**
 * libheif-js exactly as heic-decode (the declared dependency) loads it. heic-decode's own API
 * decodes the first top-level image, which is not always the primary one, so the handles are
 * taken from the same library and the primary chosen here.
 */
function loadLibheif(): LibHeif {
  const fromHeicDecode = createRequire(createRequire(import.meta.url).resolve("heic-decode"));
  return fromHeicDecode("libheif-js/wasm-bundle") as LibHeif;
}

const failure = (code: ErrorCode, message: string, details: Record<string, unknown> = {}): DecodeOutcome =>
  ({ ok: false, code, message, details });

/*
 * libheif-js reports parse and decode failures with console.log, which in a worker thread
 * is the service's stdout, where the JSON log lines go. This thread runs nothing else, one
 * task at a time: its console is kept as the reason of the task's failure instead.
 */
let lastMessage: string | undefined;
console.log = console.warn = console.error = (...args: unknown[]) => {
  lastMessage = args.map((a) => (typeof a === "string" ? a : JSON.stringify(a) ?? String(a))).join(" ").slice(0, 500);
};

// Loading starts with the worker (no top-level await: piscina require()s this module first).
let library: LibHeif | undefined;
let loadError: unknown;
try {
  library = loadLibheif();
} catch (error) {
  loadError = error;
}

export default async function decodeTask(task: DecodeTask): Promise<DecodeOutcome> {
  if (library) await library.ready;
  task.started.postMessage("started");
  task.started.close();
  if (!library) return failure("dependency_down", `the HEIF decoder could not be loaded: ${String(loadError)}`);
  lastMessage = undefined;
  try {
    const outcome = await decodePrimary(library, task);
    // The pixels move to the main thread instead of being copied (up to 4 bytes a pixel).
    if (outcome.ok) return move({ [transferableSymbol]: outcome.data.buffer, [valueSymbol]: outcome }) as unknown as DecodeOutcome;
    return outcome;
  } catch (error) {
    return failure("undecodable_media", "the HEIF image could not be decoded", { reason: error instanceof Error ? error.message : String(error) });
  }
}

async function decodePrimary(heif: LibHeif, task: DecodeTask): Promise<DecodeOutcome> {
  const decoder = new heif.HeifDecoder();
  const handles = decoder.decode(task.bytes);
  try {
    const primary = handles.find((h) => h.is_primary()) ?? handles[0];
    if (!primary) return failure("undecodable_media", "the HEIF file has no image", lastMessage ? { reason: lastMessage } : {});
    const width = primary.get_width();
    const height = primary.get_height();
    if (width * height > task.maxPixels) {
      return failure("pixel_limit_exceeded",
        `the image is ${width}x${height} (${width * height} pixels), over the limit of ${task.maxPixels} pixels`,
        { width, height, limit: task.maxPixels });
    }
    const channels = primary.has_alpha_channel() ? 4 : 3;
    const image = await heif.heif_js_decode_image2(primary.handle, heif.heif_colorspace_RGB,
      channels === 4 ? heif.heif_chroma_interleaved_RGBA : heif.heif_chroma_interleaved_RGB);
    if (!image || image.code !== undefined) {
      return failure("undecodable_media", "the HEIF image could not be decoded", { reason: image?.message ?? "no image" });
    }
    try {
      const plane = image.channels.find((c) => c.id.value === heif.heif_channel_interleaved.value);
      if (!plane || plane.width !== width || plane.height !== height) {
        return failure("undecodable_media", "the HEIF image decoded to an unexpected size", { width, height });
      }
      return { ok: true, data: packRows(plane, channels), width, height, channels };
    } finally {
      heif.heif_image_release(image.image);
    }
  } finally {
    for (const h of handles) h.free();
    decoder.decoder?.delete();
  }
}

/** Rows may be padded to the decoder's stride; sharp's raw input wants them packed. */
function packRows(plane: HeifChannel, channels: number): Uint8Array {
  const row = plane.width * channels;
  if (plane.stride === row) return plane.data.slice(0, row * plane.height);
  const out = new Uint8Array(row * plane.height);
  for (let y = 0; y < plane.height; y++) out.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
  return out;
}
