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
