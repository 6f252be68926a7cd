import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { FITS, POSITIONS, type Transform, type UrlOptions } from "../client/index.js";
import { errorFromResponse } from "../client/errors.js";
import { remote, remoteAction, type Remote } from "./remote.js";

export function registerGet(program: Command): void {
  program.command("get")
    .description("download an original, or a variant with transform options")
    .argument("<id>")
    .option("-o, --output <file>", "write to a file instead of standard output")
    .option("-t, --transform <query>", "transform parameters, e.g. 'w=300&fmt=webp'")
    .action(remoteAction(get));
}

async function get(id: string, options: { output?: string; transform?: string }): Promise<void> {
  const connection = remote();
  // The client has no streaming download (it would buffer a video whole): fetch the URL
  // it builds and stream the body to the destination.
  const response = await fetch(deliveryUrl(connection, id, options.transform), { headers: connection.headers });
  if (!response.ok) throw await errorFromResponse(response);
  const type = response.headers.get("content-type") ?? "application/octet-stream";
  if (!options.output && process.stdout.isTTY && !isText(type)) {
    await response.body?.cancel();
    throw new Error(`not writing ${type} to the terminal: pass -o FILE, or redirect standard output (> FILE, | program)`);
  }
  // The destination is opened only now, so a refused download leaves no empty file behind.
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  await pipeline(body, options.output ? createWriteStream(options.output) : process.stdout);
}

/**
 * `client.url()` writes the query in the server's canonical order with defaults dropped,
 * so `fmt=webp&w=300` and `w=300&fmt=webp` share one cached variant (and one CDN entry).
 * A query it cannot express as written (aliases such as `pos=top`, unknown or repeated
 * keys, out-of-range values) is passed through as given, for the server to apply or to
 * refuse with its own `400 invalid_parameter`.
 */
export function deliveryUrl({ client }: Remote, id: string, query: string | undefined): string {
  if (query === undefined) return client.url(id);
  const params = new URLSearchParams(query);
  const typed = toTransform(params);
  if (typed) {
    try {
      return client.url(id, typed.transform, typed.options);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }
  const passthrough = params.toString().replace(/%2C/g, ",");
  return `${client.url(id)}${passthrough ? `?${passthrough}` : ""}`;
}

function isText(contentType: string): boolean {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type.startsWith("text/") || type === "application/json" || type.endsWith("+json") || type === "application/vnd.apple.mpegurl";
}

type Parsed = { transform: Transform; options: UrlOptions };

/** The query as a typed Transform, or undefined when some parameter does not map exactly. */
function toTransform(params: URLSearchParams): Parsed | undefined {
  const transform: Record<string, unknown> = {};
  const options: UrlOptions = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    if (all.length !== 1) return undefined;
    const value = all[0]!;
    // hasOwn: a key such as `constructor` must not find Object.prototype's.
    const parsed = key === "download" ? flag(value) : Object.hasOwn(PARSERS, key) ? PARSERS[key]!(value) : undefined;
    if (parsed === undefined) return undefined;
    if (key === "download") options.download = parsed === true;
    else transform[key] = parsed;
  }
  return { transform: transform as Transform, options };
}

const integer = (v: string) => (/^\d+$/.test(v) ? Number(v) : undefined);
const decimal = (v: string) => (/^\d+(\.\d+)?$|^\.\d+$/.test(v) ? Number(v) : undefined);
const oneOf = (allowed: readonly string[]) => (v: string) => (allowed.includes(v) ? v : undefined);

/** Same spellings as the server's parser (src/domain/recipe.ts `flag`). */
function flag(v: string): boolean | undefined {
  if (v === "" || v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  return undefined;
}

const PARSERS: Readonly<Record<string, (value: string) => unknown>> = {
  preset: (v) => v || undefined,
  w: integer,
  h: integer,
  fit: oneOf(FITS),
  pos: oneOf(POSITIONS),
  dpr: decimal,
  enlarge: flag,
  rotate: integer,
  flip: flag,
  flop: flag,
  blur: decimal,
  sharpen: (v) => flag(v) ?? decimal(v),
  bg: (v) => v,
  fmt: oneOf(["auto", "jpeg", "jpg", "png", "webp", "avif", "gif"]),
  q: integer,
  strip: flag,
  page: integer,
  t: decimal,
  brightness: decimal,
  contrast: decimal,
  saturation: decimal,
  trim: (v) => flag(v) ?? integer(v),
};
