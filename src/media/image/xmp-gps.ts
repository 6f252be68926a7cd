/**
 * Location removal in XMP text (JPEG APP1, PNG iTXt, WebP "XMP ", HEIF mime items): every
 * property whose name starts with GPS in any namespace (exif:GPSLatitude, exif:GPSLongitude,
 * exif:GPSAltitude, drone-dji:GpsLatitude, ...), whether written as an attribute or as an
 * element, is overwritten with spaces. Spaces keep the packet well-formed XML and its byte
 * length unchanged, so nothing around it has to move.
 */

const OPENING = /<([\w.-]+:gps[\w.-]*)\b[^>]*>/gi;
const ATTRIBUTE = /\s[\w.-]+:gps[\w.-]*\s*=\s*(?:"[^"]*"|'[^']*')/gi;

/** Blanks GPS properties in the XMP bytes `buf[start, end)`, in place. Returns true when it changed anything. */
export function blankXmpGps(buf: Buffer, start: number, end: number): boolean {
  // latin1 maps bytes one to one, so string offsets are byte offsets (the XMP is UTF-8).
  const text = buf.toString("latin1", start, end);
  const ranges: Array<[number, number]> = [];
  // Elements: one indexOf per opening tag for its closing tag; a name found unclosed once is
  // not searched again, so a crafted packet of unclosed tags costs linear time.
  const unclosed = new Set<string>();
  let skipTo = 0;
  for (const match of text.matchAll(OPENING)) {
    const from = match.index;
    if (from < skipTo) continue;
    const name = match[1]!;
    const afterOpening = from + match[0].length;
    if (match[0].endsWith("/>")) {
      ranges.push([from, afterOpening]);
      skipTo = afterOpening;
      continue;
    }
    const key = name.toLowerCase();
    const close = unclosed.has(key) ? -1 : text.indexOf(`</${name}`, afterOpening);
    if (close < 0) {
      unclosed.add(key);
      ranges.push([from, afterOpening]); // at least the opening tag and its attributes go
      skipTo = afterOpening;
      continue;
    }
    const closeEnd = text.indexOf(">", close);
    const to = closeEnd < 0 ? text.length : closeEnd + 1;
    ranges.push([from, to]);
    skipTo = to;
  }
  for (const match of text.matchAll(ATTRIBUTE)) ranges.push([match.index, match.index + match[0].length]);
  if (ranges.length === 0) return false;
  for (const [from, to] of ranges) buf.fill(0x20, start + from, start + to);
  return true;
}
