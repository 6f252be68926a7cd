import type { Readable } from "node:stream";
import { fileTypeFromBuffer } from "file-type";
import { normaliseType, OCTET_STREAM } from "../domain/media-types.js";
import { sniffText } from "../domain/sniff-text.js";
import type { Sniffer, WholeContent } from "../ports/sniffer.js";
import { configureSharp } from "./image/configure-sharp.js";
import { readHeader } from "./image/header.js";

export interface SnifferOptions {
  /**
   * Content larger than this is never read whole for a second look (the head decides).
   * Default 256 MiB: libvips needs the file at hand to find a TIFF directory at its end.
   */
  maxConfirmBytes?: number;
}

/** Classic TIFF and BigTIFF, either byte order. */
const TIFF_MAGIC = ["49492a00", "4d4d002a", "49492b00", "4d4d002b"];
const tiffMagic = (head: Uint8Array) => head.length >= 4 && TIFF_MAGIC.includes(Buffer.from(head.subarray(0, 4)).toString("hex"));

/**
 * Binary signatures through file-type, then our own text rules for what it leaves
 * unidentified (SVG, HTML, XML, plain text). A head that begins like a TIFF but whose
 * directory lies beyond it (libvips and many scanners write the IFD after the strips) is
 * settled by the image engine's header reader over the whole content.
 */
export function createSniffer(options: SnifferOptions = {}): Sniffer {
  const maxConfirmBytes = options.maxConfirmBytes ?? 256 * 1024 * 1024;
  configureSharp();
  return {
    // file-type reads at most a few KiB for the formats we care about; 64 KiB also lets
    // the text rules see past long XML prologues.
    headBytes: 64 * 1024,
    async sniff(head) {
      if (head.length === 0) return OCTET_STREAM;
      const found = await fileTypeFromBuffer(head);
      // file-type calls every XML document application/xml; SVG is told apart by its root.
      if (found && found.mime !== "application/xml") return normaliseType(found.mime);
      return sniffText(head);
    },
    async confirm(head, headType, content) {
      if (headType !== OCTET_STREAM || !tiffMagic(head) || content.size > maxConfirmBytes) return headType;
      return (await readWholeHeader(content, maxConfirmBytes)) ?? headType;
    },
  };
}

/** "image/tiff" when libvips reads the whole content as a TIFF; undefined when it cannot. */
async function readWholeHeader(content: WholeContent, maxBytes: number): Promise<string | undefined> {
  const bytes = await collect(await content.read(), maxBytes);
  if (!bytes) return undefined;
  try {
    return (await readHeader(bytes)).format === "tiff" ? "image/tiff" : undefined;
  } catch {
    return undefined;
  }
}

async function collect(stream: Readable, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      stream.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
