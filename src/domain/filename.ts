/**
 * Unicode format characters (\p{Cf}) render as nothing, and the bidi ones among them
 * (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates, U+200E/U+200F marks,
 * U+061C) reorder what follows: "invoice\u202Efdp.exe" displays as "invoiceexe.pdf".
 * All of them go except ZERO WIDTH JOINER (U+200D), which emoji sequences need; so do the
 * C1 controls and the line and paragraph separators, which break a name across lines.
 */
const FORMAT_CHARACTERS = /(?!\u200d)[\p{Cf}\u0080-\u009f\u2028\u2029]/gu;

/**
 * A client-supplied filename is display text, never a path: we keep its last path
 * segment, drop control, format (bidi) and reserved characters, and bound its length.
 * Storage keys come from hashes, so a name can never steer where bytes are written.
 */
export function sanitiseFilename(raw: string | undefined, fallback = "upload"): string {
  if (!raw) return fallback;
  const lastSegment = raw.split(/[\\/]/).pop() ?? "";
  const cleaned = lastSegment
    .normalize("NFC")
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, "")
    .replace(FORMAT_CHARACTERS, "")
    .replace(/^[.\s]+/, "")
    .trim();
  if (!cleaned) return fallback;
  return truncateUtf8(cleaned, 255);
}

function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = "";
  for (const ch of text) {
    if (encoder.encode(out + ch).length > maxBytes) break;
    out += ch;
  }
  return out;
}

/** The filename in `Content-Disposition: attachment; filename*=UTF-8''...; filename="..."`. */
export function filenameFromDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      // malformed percent-encoding: fall back to the plain parameter
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(header);
  if (quoted) return quoted[1]!.replace(/\\(.)/g, "$1");
  const bare = /filename\s*=\s*([^;\s]+)/.exec(header);
  return bare?.[1];
}

/** `Content-Disposition` for a download, ASCII fallback plus RFC 6266 UTF-8 form. */
export function contentDisposition(kind: "attachment" | "inline", filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
