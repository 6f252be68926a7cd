/**
 * A client-supplied filename is display text, never a path: we keep its last path
 * segment, drop control and reserved characters, and bound its length. Storage keys come
 * from hashes, so a name can never steer where bytes are written.
 */
export function sanitiseFilename(raw: string | undefined, fallback = "upload"): string {
  if (!raw) return fallback;
  const lastSegment = raw.split(/[\\/]/).pop() ?? "";
  const cleaned = lastSegment
    .normalize("NFC")
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, "")
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
