/**
 * Edits of a single-image HEIF file's boxes, to make test inputs no encoder here can make:
 * a header that claims another size (a pixel bomb), and an `irot` rotation property.
 */

interface Box { type: string; start: number; size: number; body: number }

function boxes(buf: Buffer, from: number, to: number): Box[] {
  const out: Box[] = [];
  for (let at = from; at + 8 <= to;) {
    const size = buf.readUInt32BE(at);
    if (size < 8) throw new Error(`unsupported box size ${size} at ${at}`);
    out.push({ type: buf.toString("latin1", at + 4, at + 8), start: at, size, body: at + 8 });
    at += size;
  }
  return out;
}

const child = (buf: Buffer, parent: Box, type: string, fullBox = false): Box => {
  const found = boxes(buf, parent.body + (fullBox ? 4 : 0), parent.start + parent.size).find((b) => b.type === type);
  if (!found) throw new Error(`no ${type} box`);
  return found;
};

function layout(buf: Buffer) {
  const meta = boxes(buf, 0, buf.length).find((b) => b.type === "meta");
  if (!meta) throw new Error("no meta box");
  const iprp = child(buf, meta, "iprp", true);
  return { meta, iprp, ipco: child(buf, iprp, "ipco"), ipma: child(buf, iprp, "ipma"), iloc: child(buf, meta, "iloc", true), pitm: child(buf, meta, "pitm", true) };
}

/** The file with every `ispe` (image spatial extents) saying `width` x `height`; the coded pixels are unchanged. */
export function withClaimedSize(input: Buffer, width: number, height: number): Buffer {
  const buf = Buffer.from(input);
  const { ipco } = layout(buf);
  for (const b of boxes(buf, ipco.body, ipco.start + ipco.size)) {
    if (b.type !== "ispe") continue;
    buf.writeUInt32BE(width, b.body + 4);
    buf.writeUInt32BE(height, b.body + 8);
  }
  return buf;
}

/** The file with an essential `irot` property on the primary item: displayed turned `quarterTurns` x 90° anticlockwise. */
export function withRotation(input: Buffer, quarterTurns: 1 | 2 | 3): Buffer {
  const { meta, iprp, ipco, ipma, iloc, pitm } = layout(input);
  const pitmVersion = input[pitm.body]!;
  const primary = pitmVersion === 0 ? input.readUInt16BE(pitm.body + 4) : input.readUInt32BE(pitm.body + 4);
  const propertyIndex = boxes(input, ipco.body, ipco.start + ipco.size).length + 1;

  // ipma (version 0, flags without bit 0): entry_count u32, then item u16, count u8, count x u8.
  const ipmaVersion = input[ipma.body]!;
  const ipmaFlags = input.readUIntBE(ipma.body + 1, 3);
  if (ipmaVersion !== 0 || (ipmaFlags & 1) !== 0) throw new Error("unsupported ipma layout");
  let at = ipma.body + 8;
  let countAt = -1;
  let entryEnd = -1;
  for (let i = 0, n = input.readUInt32BE(ipma.body + 4); i < n; i++) {
    const item = input.readUInt16BE(at);
    const count = input[at + 2]!;
    if (item === primary) { countAt = at + 2; entryEnd = at + 3 + count; }
    at += 3 + count;
  }
  if (countAt < 0) throw new Error("the primary item has no properties");

  const irot = Buffer.from([0, 0, 0, 9, ...Buffer.from("irot", "latin1"), quarterTurns]);
  const out = Buffer.concat([
    input.subarray(0, ipco.start + ipco.size), irot,
    input.subarray(ipco.start + ipco.size, entryEnd), Buffer.from([0x80 | propertyIndex]),
    input.subarray(entryEnd),
  ]);
  const grow = (offset: number, by: number, afterIpco: boolean) => {
    const where = afterIpco && offset >= ipco.start + ipco.size ? offset + irot.length : offset;
    out.writeUInt32BE(out.readUInt32BE(where) + by, where);
  };
  grow(meta.start, irot.length + 1, false);
  grow(iprp.start, irot.length + 1, false);
  grow(ipco.start, irot.length, false);
  grow(ipma.start, 1, true);
  out[countAt + irot.length] = input[countAt]! + 1;
  shiftIloc(out, iloc, irot.length + 1);
  return out;
}

/** Moves every absolute offset in iloc (construction method 0) by `by`: the data after meta moved. */
function shiftIloc(buf: Buffer, iloc: Box, by: number): void {
  const version = buf[iloc.body]!;
  const sizes = buf.readUInt16BE(iloc.body + 4);
  const offsetSize = sizes >> 12, lengthSize = (sizes >> 8) & 15, baseSize = (sizes >> 4) & 15;
  const indexSize = version >= 1 ? sizes & 15 : 0;
  let at = iloc.body + 6;
  const count = version < 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  const bump = (where: number, size: number) => {
    if (size === 4) buf.writeUInt32BE(buf.readUInt32BE(where) + by, where);
    else if (size === 8) buf.writeBigUInt64BE(buf.readBigUInt64BE(where) + BigInt(by), where);
  };
  for (let i = 0; i < count; i++) {
    at += version < 2 ? 2 : 4;
    const method = version >= 1 ? buf.readUInt16BE(at) & 15 : 0;
    if (version >= 1) at += 2;
    at += 2; // data_reference_index
    const moves = method === 0;
    if (moves && baseSize > 0) bump(at, baseSize);
    const baseOffset = baseSize > 0 ? (baseSize === 4 ? buf.readUInt32BE(at) : Number(buf.readBigUInt64BE(at))) : 0;
    at += baseSize;
    const extents = buf.readUInt16BE(at);
    at += 2;
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      // With a base offset the extents are relative to it; without one they are absolute.
      if (moves && baseOffset === 0 && baseSize === 0) bump(at, offsetSize);
      at += offsetSize + lengthSize;
    }
  }
}
