/**
 * Just enough of ICC.1 (v2 and v4) to name a profile for the manifest and to know its
 * colour space. The profile comes from an uploaded file, so every offset is checked
 * against the buffer and the text is length-capped: a lying profile yields `undefined`,
 * never an exception or a huge string.
 */

export interface IccInfo {
  /** e.g. "2.1", "4.2". */
  readonly version: string;
  /** Data colour space signature, trimmed: "RGB", "CMYK", "GRAY", "Lab", ... */
  readonly colourSpace: string;
  /** The `desc` tag: "sRGB IEC61966-2.1", "Compatible with Adobe RGB (1998)", ... */
  readonly description?: string;
}

const HEADER_SIZE = 128;
const MAX_TEXT = 200;

export function parseIcc(profile: Uint8Array): IccInfo | undefined {
  if (profile.byteLength < HEADER_SIZE + 4) return undefined;
  const view = new DataView(profile.buffer, profile.byteOffset, profile.byteLength);
  if (ascii(profile, 36, 4) !== "acsp") return undefined; // the profile file signature
  const version = `${profile[8]}.${profile[9]! >> 4}`;
  const colourSpace = ascii(profile, 16, 4).trim();
  const description = readDescription(profile, view);
  return { version, colourSpace, ...(description ? { description } : {}) };
}

function readDescription(bytes: Uint8Array, view: DataView): string | undefined {
  const count = view.getUint32(HEADER_SIZE);
  for (let i = 0; i < count; i++) {
    const entry = HEADER_SIZE + 4 + i * 12;
    if (entry + 12 > bytes.byteLength) return undefined;
    if (ascii(bytes, entry, 4) !== "desc") continue;
    const offset = view.getUint32(entry + 4);
    const size = view.getUint32(entry + 8);
    if (size < 12 || offset + size > bytes.byteLength) return undefined;
    const tag = bytes.subarray(offset, offset + size);
    const type = ascii(tag, 0, 4);
    const text = type === "desc" ? textDescription(tag) : type === "mluc" ? multiLocalized(tag) : undefined;
    return text === undefined ? undefined : clean(text);
  }
  return undefined;
}

/** v2 textDescriptionType: ASCII count (with its NUL) and the characters at 12. */
function textDescription(tag: Uint8Array): string | undefined {
  const view = new DataView(tag.buffer, tag.byteOffset, tag.byteLength);
  const count = view.getUint32(8);
  if (count === 0 || 12 + count > tag.byteLength) return undefined;
  return ascii(tag, 12, count);
}

/** v4 multiLocalizedUnicodeType: records of (language, country, length, offset), UTF-16BE text. */
function multiLocalized(tag: Uint8Array): string | undefined {
  if (tag.byteLength < 16) return undefined;
  const view = new DataView(tag.buffer, tag.byteOffset, tag.byteLength);
  const records = view.getUint32(8);
  const recordSize = view.getUint32(12);
  if (recordSize < 12) return undefined;
  let chosen: { length: number; offset: number } | undefined;
  for (let i = 0; i < records; i++) {
    const at = 16 + i * recordSize;
    if (at + 12 > tag.byteLength) break;
    const record = { length: view.getUint32(at + 4), offset: view.getUint32(at + 8) };
    // English when the profile offers it, else the first language.
    if (!chosen || ascii(tag, at, 2) === "en") chosen = record;
    if (ascii(tag, at, 2) === "en") break;
  }
  if (!chosen || chosen.offset + chosen.length > tag.byteLength) return undefined;
  const utf16be = Buffer.from(tag.subarray(chosen.offset, chosen.offset + (chosen.length & ~1)));
  return utf16be.swap16().toString("utf16le");
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (start < 0 || start >= bytes.byteLength) return "";
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(length, bytes.byteLength - start)).toString("latin1");
}

/** Up to the first NUL, control characters dropped, capped: it ends up in JSON and the UI. */
function clean(text: string): string | undefined {
  const nul = text.indexOf("\0");
  // eslint-disable-next-line no-control-regex
  const value = (nul === -1 ? text : text.slice(0, nul)).replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, MAX_TEXT);
  return value || undefined;
}
