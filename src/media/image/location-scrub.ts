import { crc32, deflateSync, inflateSync } from "node:zlib";
import { removeTiffGps } from "./tiff-gps.js";
import { blankXmpGps } from "./xmp-gps.js";

/**
 * Location privacy for originals (DESIGN §10): the bytes a non-owner receives carry no GPS.
 * Lossless: pixels are never decoded or re-encoded, only metadata bytes are overwritten,
 * in place wherever the container has absolute offsets (JPEG, WebP, HEIF), so the image
 * data is byte-for-byte the same.
 *
 * - JPEG: EXIF APP1 (GPS IFD), XMP and Extended XMP APP1 (GPS properties).
 * - PNG: eXIf (CRC recomputed) and XMP in iTXt, zTXt or tEXt (compressed XMP is inflated,
 *   blanked and compressed again: PNG chunks have no offsets to keep).
 * - WebP: EXIF and "XMP " chunks.
 * - HEIC/AVIF: the Exif item (found by its "Exif\0\0" + TIFF header, as cameras, libheif
 *   and exiftool write it) and XMP packets (found by their x:xmpmeta element).
 * - Anything else (GIF, SVG, TIFF files, video, PDF) is reported as not scanned.
 */

export type ScrubbedFormat = "jpeg" | "png" | "webp" | "heif";

export interface LocationScrub {
  /** The bytes to serve: the very input Buffer when nothing was removed. */
  bytes: Buffer;
  /** Whether any location metadata was removed (the bytes, and so their ETag, differ). */
  removed: boolean;
  /** The container that was scanned; undefined when the format is not one this module reads. */
  format: ScrubbedFormat | undefined;
}

const EXIF_HEADER = Buffer.from("Exif\0\0", "latin1");
const XMP_JPEG = Buffer.from("http://ns.adobe.com/xap/1.0/\0", "latin1");
const XMP_JPEG_EXTENDED = Buffer.from("http://ns.adobe.com/xmp/extension/\0", "latin1");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_XMP_KEYWORD = Buffer.from("XML:com.adobe.xmp\0", "latin1");
const HEIF_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis"]);

const startsWith = (buf: Buffer, at: number, prefix: Buffer) =>
  at + prefix.length <= buf.length && buf.subarray(at, at + prefix.length).equals(prefix);

/** An EXIF payload: a TIFF structure, sometimes (WebP, some PNG writers) behind "Exif\0\0". */
const removeExifGps = (buf: Buffer, start: number, end: number) =>
  removeTiffGps(buf, startsWith(buf, start, EXIF_HEADER) ? start + EXIF_HEADER.length : start, end);

function scrubJpeg(buf: Buffer): boolean {
  let changed = false;
  let at = 2;
  while (at + 4 <= buf.length) {
    if (buf[at] !== 0xff) break; // not a marker: the header is over (or corrupt)
    const marker = buf[at + 1]!;
    if (marker === 0xff) { at++; continue; } // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
    if (marker === 0xda || marker === 0xd9) break; // entropy-coded data follows: no more metadata segments
    const end = at + 2 + buf.readUInt16BE(at + 2);
    if (end > buf.length) break;
    const data = at + 4;
    if (marker === 0xe1) {
      if (startsWith(buf, data, EXIF_HEADER)) changed = removeTiffGps(buf, data + EXIF_HEADER.length, end) || changed;
      else if (startsWith(buf, data, XMP_JPEG)) changed = blankXmpGps(buf, data + XMP_JPEG.length, end) || changed;
      else if (startsWith(buf, data, XMP_JPEG_EXTENDED)) changed = blankXmpGps(buf, data + XMP_JPEG_EXTENDED.length, end) || changed;
    }
    at = end;
  }
  return changed;
}

/** XMP is small; compressed XMP that inflates beyond this, or not at all, is dropped (a bomb is no reason to keep it). */
const MAX_XMP_BYTES = 16 * 1024 * 1024;

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, "latin1");
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/**
 * Compressed XMP (zTXt, or iTXt with its flag set): inflated, blanked and compressed again.
 * The chunk to keep in its place, the same one when it carries no GPS, or undefined to drop it.
 */
function scrubCompressedXmp(chunk: Buffer, type: string, textAt: number): Buffer | undefined {
  let xmp: Buffer;
  try {
    xmp = inflateSync(chunk.subarray(textAt, chunk.length - 4), { maxOutputLength: MAX_XMP_BYTES });
  } catch {
    return undefined;
  }
  if (!blankXmpGps(xmp, 0, xmp.length)) return chunk;
  return pngChunk(type, Buffer.concat([chunk.subarray(8, textAt), deflateSync(xmp)]));
}

/**
 * PNG chunks carry their own lengths and CRCs and no offsets, so each one is scrubbed on its
 * own and the file is put back together. `buf` is a copy this function may write into.
 * XMP lives in iTXt, zTXt (libvips) or tEXt under the keyword XML:com.adobe.xmp.
 */
function scrubPng(buf: Buffer): Buffer | undefined {
  const kept: Buffer[] = [buf.subarray(0, 8)];
  let changed = false;
  let at = 8;
  while (at + 12 <= buf.length) {
    const length = buf.readUInt32BE(at);
    const end = at + 12 + length;
    if (end > buf.length) break;
    const type = buf.toString("latin1", at + 4, at + 8);
    const data = at + 8;
    const dataEnd = data + length;
    const original = buf.subarray(at, end);
    let chunk: Buffer | undefined = original;
    let touched = false;
    if (type === "eXIf") touched = removeExifGps(buf, data, dataEnd);
    else if ((type === "iTXt" || type === "zTXt" || type === "tEXt") && startsWith(buf, data, PNG_XMP_KEYWORD)) {
      const after = data + PNG_XMP_KEYWORD.length;
      if (type === "tEXt") touched = blankXmpGps(buf, after, dataEnd);
      else if (type === "zTXt") chunk = scrubCompressedXmp(original, type, after + 1 - at); // one byte: the method
      else {
        // compression flag and method, then a language tag and a translated keyword, each NUL-ended
        const language = buf.indexOf(0, after + 2);
        const translated = language < 0 ? -1 : buf.indexOf(0, language + 1);
        if (translated < 0 || translated >= dataEnd) chunk = undefined; // malformed: it goes
        else if (buf[after] === 0) touched = blankXmpGps(buf, translated + 1, dataEnd);
        else chunk = scrubCompressedXmp(original, type, translated + 1 - at);
      }
    }
    if (touched) buf.writeUInt32BE(crc32(buf.subarray(at + 4, dataEnd)), dataEnd);
    if (touched || chunk !== original) changed = true;
    if (chunk) kept.push(chunk);
    at = end;
    if (type === "IEND") break;
  }
  if (!changed) return undefined;
  if (at < buf.length) kept.push(buf.subarray(at));
  return Buffer.concat(kept);
}

function scrubWebp(buf: Buffer): boolean {
  let changed = false;
  let at = 12;
  while (at + 8 <= buf.length) {
    const type = buf.toString("latin1", at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const data = at + 8;
    const end = data + size;
    if (end > buf.length) break;
    if (type === "EXIF") changed = removeExifGps(buf, data, end) || changed;
    else if (type === "XMP ") changed = blankXmpGps(buf, data, end) || changed;
    at = end + (size & 1); // chunks are padded to an even size
  }
  return changed;
}

/**
 * HEIF/AVIF keep EXIF and XMP as items whose extents only the iloc box knows; the payloads
 * announce themselves, so they are found by their headers instead, and scrubbed in place.
 */
function scrubHeif(buf: Buffer): boolean {
  let changed = false;
  for (let at = buf.indexOf(EXIF_HEADER); at >= 0; at = buf.indexOf(EXIF_HEADER, at + 1)) {
    const tiff = at + EXIF_HEADER.length;
    const order = buf.toString("latin1", tiff, tiff + 4);
    if (order === "II*\0" || order === "MM\0*") changed = removeTiffGps(buf, tiff, buf.length) || changed;
  }
  for (let at = buf.indexOf("<x:xmpmeta"); at >= 0; at = buf.indexOf("<x:xmpmeta", at + 1)) {
    const close = buf.indexOf("</x:xmpmeta>", at);
    changed = blankXmpGps(buf, at, close < 0 ? buf.length : close) || changed;
  }
  return changed;
}

function formatOf(buf: Buffer): ScrubbedFormat | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return "jpeg";
  if (startsWith(buf, 0, PNG_SIGNATURE)) return "png";
  if (buf.length >= 12 && buf.toString("latin1", 0, 4) === "RIFF" && buf.toString("latin1", 8, 12) === "WEBP") return "webp";
  if (buf.length >= 12 && buf.toString("latin1", 4, 8) === "ftyp" && HEIF_BRANDS.has(buf.toString("latin1", 8, 12))) return "heif";
  return undefined;
}

/**
 * Removes location metadata from an original's bytes. The input is never modified; when
 * nothing is found the same Buffer comes back (`removed: false`), so its ETag stays the
 * blob's sha256.
 */
export function scrubLocation(original: Buffer): LocationScrub {
  const format = formatOf(original);
  if (format === undefined) return { bytes: original, removed: false, format };
  if (format === "png") {
    const scrubbed = scrubPng(Buffer.from(original));
    return scrubbed ? { bytes: scrubbed, removed: true, format } : { bytes: original, removed: false, format };
  }
  const copy = Buffer.from(original);
  const removed = format === "jpeg" ? scrubJpeg(copy) : format === "webp" ? scrubWebp(copy) : scrubHeif(copy);
  return removed ? { bytes: copy, removed, format } : { bytes: original, removed, format };
}
