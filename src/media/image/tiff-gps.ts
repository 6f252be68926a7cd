/**
 * Location removal inside a TIFF structure (the body of every EXIF block: JPEG APP1, PNG
 * eXIf, WebP EXIF, HEIF Exif items). The GPSInfo pointer (tag 0x8825) is taken out of each
 * top-level IFD and the GPS IFD with its values is overwritten with zeros. Nothing moves:
 * every other offset in the block stays valid, so the rest of the metadata (Make, Model,
 * Orientation, the thumbnail, maker notes) reads exactly as before.
 */

const GPS_INFO = 0x8825;
/** Bytes per value of each TIFF field type (1 BYTE ... 13 IFD); 0 for unknown types. */
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];
/** IFD0 and IFD1 (the thumbnail); a longer chain is not EXIF as cameras write it. */
const MAX_TOP_LEVEL_IFDS = 4;

class Malformed extends Error {}

/**
 * Removes GPS from the TIFF structure in `buf[start, end)`, in place. Returns true when it
 * changed anything. A block that is not TIFF at all is left alone (no reader finds GPS in
 * it either); one whose IFDs point outside it has its header blanked, so that no reader,
 * however lenient, can find its GPS IFD.
 */
export function removeTiffGps(buf: Buffer, start: number, end: number): boolean {
  if (start + 8 > end || end > buf.length) return false;
  const little = buf[start] === 0x49 && buf[start + 1] === 0x49;
  const big = buf[start] === 0x4d && buf[start + 1] === 0x4d;
  if (!little && !big) return false;
  const u16 = (at: number) => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number) => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const w16 = (at: number, v: number) => (little ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at));
  if (u16(start + 2) !== 42) return false;

  const inside = (at: number, length: number) => {
    if (at < start || at + length > end) throw new Malformed(`${length} bytes at ${at} outside the block`);
  };

  /** Zeroes the GPS IFD at `at`: its values stored out of line, then the directory itself. */
  const blankGpsIfd = (at: number) => {
    inside(at, 2);
    const count = u16(at);
    inside(at, 2 + count * 12 + 4);
    for (let k = 0; k < count; k++) {
      const entry = at + 2 + k * 12;
      const size = (TYPE_SIZE[u16(entry + 2)] ?? 0) * u32(entry + 4);
      if (size > 4) {
        const value = start + u32(entry + 8);
        inside(value, size);
        buf.fill(0, value, value + size);
      }
    }
    buf.fill(0, at, at + 2 + count * 12 + 4);
  };

  let changed = false;
  try {
    let ifd = u32(start + 4);
    const seen = new Set<number>();
    for (let i = 0; ifd !== 0 && i < MAX_TOP_LEVEL_IFDS && !seen.has(ifd); i++) {
      seen.add(ifd);
      const at = start + ifd;
      inside(at, 2);
      let count = u16(at);
      inside(at, 2 + count * 12 + 4);
      for (let k = 0; k < count; k++) {
        const entry = at + 2 + k * 12;
        if (u16(entry) !== GPS_INFO) continue;
        blankGpsIfd(start + u32(entry + 8));
        // Close the gap: later entries and the next-IFD offset move up one entry (the
        // entries stay sorted), the freed last 12 bytes become zeros, the count drops by one.
        const tail = at + 2 + count * 12 + 4;
        buf.copyWithin(entry, entry + 12, tail);
        buf.fill(0, tail - 12, tail);
        w16(at, --count);
        changed = true;
        k--;
      }
      ifd = u32(at + 2 + count * 12);
    }
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    buf.fill(0, start, start + 8);
    return true;
  }
  return changed;
}
