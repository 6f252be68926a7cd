import type { ImageSource } from "../../ports/image-engine.js";

export type EngineInput = string | Buffer;

/**
 * A path lets libvips read (and shrink-on-load) straight from disk. SVG is the exception:
 * librsvg resolves `<image href>` and other external references relative to the file's
 * location, so SVG is always handed over as a Buffer, which has no location at all.
 */
export async function openSource(source: ImageSource): Promise<EngineInput> {
  if (source.path && source.contentType !== "image/svg+xml") return source.path;
  return source.read();
}

/** The sniffed type can be wrong about SVG only if a sniffer is; the header has the last word. */
export async function asSvgSafeInput(input: EngineInput, format: string, source: ImageSource): Promise<EngineInput> {
  return format === "svg" && typeof input === "string" ? source.read() : input;
}
