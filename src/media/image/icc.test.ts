import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { parseIcc } from "./icc.js";

/** A minimal ICC profile: 128-byte header, one `desc` tag of the given bytes. */
function profile(tag: Buffer, options: { version?: [number, number]; space?: string; tagOffset?: number } = {}): Buffer {
  const [major, minor] = options.version ?? [2, 1];
  const tagOffset = options.tagOffset ?? 144;
  const out = Buffer.alloc(Math.max(144 + tag.length, 144));
  out.writeUInt32BE(out.length, 0);
  out[8] = major;
  out[9] = minor << 4;
  out.write("mntr", 12, "latin1");
  out.write((options.space ?? "RGB").padEnd(4, " "), 16, "latin1");
  out.write("XYZ ", 20, "latin1");
  out.write("acsp", 36, "latin1");
  out.writeUInt32BE(1, 128);
  out.write("desc", 132, "latin1");
  out.writeUInt32BE(tagOffset, 136);
  out.writeUInt32BE(tag.length, 140);
  tag.copy(out, 144);
  return out;
}

/** v2 textDescriptionType. */
function textDescription(text: string): Buffer {
  const ascii = Buffer.from(text + "\0", "latin1");
  const tag = Buffer.alloc(12 + ascii.length + 12);
  tag.write("desc", 0, "latin1");
  tag.writeUInt32BE(ascii.length, 8);
  ascii.copy(tag, 12);
  return tag;
}

/** v4 multiLocalizedUnicodeType. */
function multiLocalized(records: Array<[lang: string, country: string, text: string]>): Buffer {
  const header = 16 + records.length * 12;
  const strings = records.map(([, , text]) => Buffer.from(text, "utf16le").swap16());
  const tag = Buffer.alloc(header + strings.reduce((n, s) => n + s.length, 0));
  tag.write("mluc", 0, "latin1");
  tag.writeUInt32BE(records.length, 8);
  tag.writeUInt32BE(12, 12);
  let offset = header;
  records.forEach(([lang, country], i) => {
    const at = 16 + i * 12;
    tag.write(lang, at, "latin1");
    tag.write(country, at + 2, "latin1");
    tag.writeUInt32BE(strings[i]!.length, at + 4);
    tag.writeUInt32BE(offset, at + 8);
    strings[i]!.copy(tag, offset);
    offset += strings[i]!.length;
  });
  return tag;
}

describe("parseIcc", () => {
  it("reads a v2 'desc' textDescriptionType", () => {
    expect(parseIcc(profile(textDescription("Test RGB Profile")))).toEqual({
      version: "2.1", colourSpace: "RGB", description: "Test RGB Profile",
    });
  });

  it("reads a v4 'mluc' and prefers English", () => {
    const tag = multiLocalized([["de", "DE", "Deutsches Profil"], ["en", "US", "English profile ✓"]]);
    expect(parseIcc(profile(tag, { version: [4, 3] }))).toEqual({
      version: "4.3", colourSpace: "RGB", description: "English profile ✓",
    });
  });

  it("falls back to the first language when there is no English", () => {
    const tag = multiLocalized([["fr", "FR", "Profil français"], ["de", "DE", "Deutsch"]]);
    expect(parseIcc(profile(tag, { version: [4, 2] }))?.description).toBe("Profil français");
  });

  it("reports the colour space signature (CMYK, GRAY)", () => {
    expect(parseIcc(profile(textDescription("x"), { space: "CMYK" }))?.colourSpace).toBe("CMYK");
    expect(parseIcc(profile(textDescription("x"), { space: "GRAY" }))?.colourSpace).toBe("GRAY");
  });

  it("reads sharp's built-in v4 sRGB profile", async () => {
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: "#fff" } }).withIccProfile("srgb").png().toBuffer();
    const icc = (await sharp(png).metadata()).icc!;
    const info = parseIcc(icc);
    expect(info?.version.startsWith("4.")).toBe(true);
    expect(info?.colourSpace).toBe("RGB");
    expect(info?.description).toMatch(/sRGB/);
  });

  it("works on a view into a larger buffer", () => {
    const inner = profile(textDescription("Offset view"));
    const outer = Buffer.concat([Buffer.alloc(7, 0xff), inner, Buffer.alloc(5)]);
    expect(parseIcc(outer.subarray(7, 7 + inner.length))?.description).toBe("Offset view");
  });

  it("cleans control characters and caps the length", () => {
    expect(parseIcc(profile(textDescription("bad\u0001\u001b[31m name")))?.description).toBe("bad[31m name");
    expect(parseIcc(profile(textDescription("x".repeat(5000))))?.description).toHaveLength(200);
  });

  it("returns undefined for what is not a profile", () => {
    expect(parseIcc(Buffer.alloc(0))).toBeUndefined();
    expect(parseIcc(Buffer.alloc(100))).toBeUndefined();
    const wrongMagic = profile(textDescription("x"));
    wrongMagic.write("nope", 36, "latin1");
    expect(parseIcc(wrongMagic)).toBeUndefined();
  });

  it("survives lying offsets, sizes and counts without throwing", () => {
    expect(parseIcc(profile(textDescription("x"), { tagOffset: 1_000_000 }))?.description).toBeUndefined();
    const hugeCount = profile(textDescription("x"));
    hugeCount.writeUInt32BE(0xffffffff, 128);
    expect(() => parseIcc(hugeCount)).not.toThrow();
    const lyingAscii = profile(textDescription("abc"));
    lyingAscii.writeUInt32BE(0x7fffffff, 144 + 8);
    expect(parseIcc(lyingAscii)?.description).toBeUndefined();
    const lyingRecords = profile(multiLocalized([["en", "US", "ok"]]), { version: [4, 2] });
    lyingRecords.writeUInt32BE(0xfffffff0, 144 + 16 + 8); // record offset
    expect(parseIcc(lyingRecords)?.description).toBeUndefined();
  });

  it("never throws on any truncation of a real profile", () => {
    const full = profile(multiLocalized([["en", "US", "Truncate me"]]), { version: [4, 2] });
    for (let n = 0; n <= full.length; n++) expect(() => parseIcc(full.subarray(0, n))).not.toThrow();
  });
});
