import { readFile } from "node:fs/promises";
import { crc32 } from "node:zlib";
import exifr from "exifr";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixturePath } from "../helpers/fixtures.js";
import { scrubLocation } from "../../src/media/image/location-scrub.js";
import { removeTiffGps } from "../../src/media/image/tiff-gps.js";
import { blankXmpGps } from "../../src/media/image/xmp-gps.js";

const GPS_PHOTO = "photos/nokia-n9-gps-bythewater-2560x1600.jpg";
const PLAIN_PHOTO = "photos/canon-eos-400d-storm-1920x1280.jpg";
const XMP_PHOTO = "photos/olympus-e-m1-kite-2560x1600.jpg";

const XMP = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">` +
  `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""` +
  ` xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"` +
  ` exif:GPSLatitude="60,10.1712N" exif:GPSLongitude="24,56.127E" xmp:CreatorTool="assetd-test">` +
  `<exif:GPSAltitude>12/1</exif:GPSAltitude></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
const EXIF = {
  IFD0: { Make: "assetd", Model: "test-cam", Orientation: "1" },
  IFD3: { GPSLatitudeRef: "N", GPSLatitude: "60/1 10/1 10272/1000", GPSLongitudeRef: "E", GPSLongitude: "24/1 56/1 762/100" },
};

/** A small photo-like image (a gradient, so lossy codecs have real data) with EXIF GPS and XMP GPS. */
async function generated(format: "jpeg" | "png" | "webp" | "avif"): Promise<Buffer> {
  const width = 96;
  const height = 64;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) pixels.set([(i % width) * 2, Math.floor(i / width) * 3, 128], i * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } })[format]().withExif(EXIF).withXmp(XMP).toBuffer();
}

/** EXIF as every container exposes it: sharp's block without "Exif\0\0", parsed by exifr (PLATFORM.md). */
async function exifOf(bytes: Buffer): Promise<Record<string, unknown>> {
  const { exif } = await sharp(bytes).metadata();
  if (!exif) return {};
  const tiff = exif.subarray(0, 6).toString("latin1") === "Exif\0\0" ? exif.subarray(6) : exif;
  return ((await exifr.parse(tiff, { tiff: true, gps: true, translateValues: false })) ?? {}) as Record<string, unknown>;
}
const xmpOf = async (bytes: Buffer) => (await sharp(bytes).metadata()).xmp?.toString("utf8") ?? "";
const pixelsOf = (bytes: Buffer) => sharp(bytes).raw().toBuffer();

describe("scrubLocation", () => {
  it("removes GPS from a phone JPEG losslessly and keeps the rest of its EXIF", async () => {
    const original = await readFile(fixturePath(GPS_PHOTO));
    const untouched = Buffer.from(original);
    expect(await exifr.gps(original)).toMatchObject({ latitude: 60.16952, longitude: 24.93545 });

    const { bytes, removed, format } = scrubLocation(original);
    expect([removed, format]).toEqual([true, "jpeg"]);
    expect(bytes.length).toBe(original.length);
    expect(original.equals(untouched)).toBe(true); // the input is not modified

    expect(await exifr.gps(bytes)).toBeUndefined();
    const tags = await exifr.parse(bytes, { tiff: true, exif: true, gps: true, translateValues: false });
    expect(Object.keys(tags).filter((k) => k.startsWith("GPS"))).toEqual([]);
    expect(tags).toMatchObject({ Make: expect.stringMatching(/^Nokia/), Model: "N9", Orientation: 1 });
    expect(tags.ExposureTime).toBeGreaterThan(0); // the EXIF sub-IFD still reads
    expect((await pixelsOf(bytes)).equals(await pixelsOf(original))).toBe(true);
    // Everything from the first quantisation table on (the image data) is byte-for-byte the same.
    const dqt = original.indexOf(Buffer.from([0xff, 0xdb]));
    expect(bytes.subarray(dqt).equals(original.subarray(dqt))).toBe(true);
  });

  it("returns photos without location as they are: the same bytes", async () => {
    for (const name of [PLAIN_PHOTO, XMP_PHOTO, "formats/lossy-freshflower-800x602.webp", "formats/alpha-debian-emblem-256x256.png"]) {
      const original = await readFile(fixturePath(name));
      const result = scrubLocation(original);
      expect(result.removed, name).toBe(false);
      expect(result.bytes, name).toBe(original);
    }
  });

  it("removes EXIF and XMP GPS from JPEG, PNG, WebP and AVIF, pixels and other metadata kept", async () => {
    for (const format of ["jpeg", "png", "webp", "avif"] as const) {
      const original = await generated(format);
      expect((await exifOf(original)).GPSLatitude, format).toBeDefined();
      expect(await xmpOf(original), format).toContain("GPSLatitude");

      const result = scrubLocation(original);
      expect(result.removed, format).toBe(true);
      expect(result.format, format).toBe(format === "avif" ? "heif" : format);
      const exif = await exifOf(result.bytes);
      expect(Object.keys(exif).filter((k) => k.startsWith("GPS")), format).toEqual([]);
      expect(exif, format).toMatchObject({ Make: "assetd", Model: "test-cam" });
      const xmp = await xmpOf(result.bytes);
      expect(xmp, format).not.toMatch(/gps/i);
      expect(xmp, format).toContain(`xmp:CreatorTool="assetd-test"`);
      expect((await pixelsOf(result.bytes)).equals(await pixelsOf(original)), format).toBe(true);
      if (format !== "png") expect(result.bytes.length, format).toBe(original.length);
    }
  });

  it("keeps every PNG chunk's CRC valid", async () => {
    const { bytes } = scrubLocation(await generated("png"));
    expect(await exifr.gps(bytes)).toBeUndefined();
    for (let at = 8; at < bytes.length;) {
      const length = bytes.readUInt32BE(at);
      expect(crc32(bytes.subarray(at + 4, at + 8 + length))).toBe(bytes.readUInt32BE(at + 8 + length));
      at += 12 + length;
    }
  });

  it("leaves formats it does not read alone", async () => {
    const gif = await readFile(fixturePath("formats/animated-greenmeadow-6-frames-320x256.gif"));
    const result = scrubLocation(gif);
    expect([result.removed, result.format]).toEqual([false, undefined]);
    expect(result.bytes).toBe(gif);
    const text = Buffer.from("not an image");
    expect(scrubLocation(text).bytes).toBe(text);
  });
});

describe("removeTiffGps", () => {
  /** II*, IFD0 at 8 with the given entries (tag, type, count, value), next IFD 0. */
  function tiff(entries: Array<[number, number, number, number]>, extra = 0): Buffer {
    const buf = Buffer.alloc(8 + 2 + entries.length * 12 + 4 + extra);
    buf.write("II*\0", 0, "latin1");
    buf.writeUInt32LE(8, 4);
    buf.writeUInt16LE(entries.length, 8);
    entries.forEach(([tag, type, count, value], i) => {
      const at = 10 + i * 12;
      buf.writeUInt16LE(tag, at);
      buf.writeUInt16LE(type, at + 2);
      buf.writeUInt32LE(count, at + 4);
      buf.writeUInt32LE(value, at + 8);
    });
    return buf;
  }

  it("takes the GPS pointer out of IFD0 and keeps the entries around it", () => {
    // Orientation, GPSInfo -> an empty GPS IFD at 46, Software; 18 spare bytes hold the GPS IFD.
    const buf = tiff([[0x0112, 3, 1, 6], [0x8825, 4, 1, 48], [0x0131, 2, 4, 0x00435341]], 18);
    buf.writeUInt16LE(0, 48);
    expect(removeTiffGps(buf, 0, buf.length)).toBe(true);
    expect(buf.readUInt16LE(8)).toBe(2);
    expect([buf.readUInt16LE(10), buf.readUInt16LE(22)]).toEqual([0x0112, 0x0131]);
    expect(buf.readUInt32LE(10 + 2 * 12)).toBe(0); // the next-IFD offset moved up with them
    expect(removeTiffGps(buf, 0, buf.length)).toBe(false); // nothing left to remove
  });

  it("blanks the header of a block whose GPS pointer leads outside it", () => {
    const buf = tiff([[0x8825, 4, 1, 0xffff]]);
    expect(removeTiffGps(buf, 0, buf.length)).toBe(true);
    expect(buf.subarray(0, 8).equals(Buffer.alloc(8))).toBe(true);
  });

  it("ignores what is not TIFF", () => {
    const buf = Buffer.from("definitely not a tiff block");
    expect(removeTiffGps(buf, 0, buf.length)).toBe(false);
  });
});

describe("blankXmpGps", () => {
  it("blanks GPS attributes and elements of any namespace, same length, rest intact", () => {
    const xmp = `<rdf:Description exif:GPSLatitude="1" drone-dji:GpsLongitude='2' tiff:Make="X">` +
      `<exif:GPSAltitude>3</exif:GPSAltitude><exif:GPSTimeStamp/><exif:GPSDest><rdf:Seq><rdf:li>4</rdf:li></rdf:Seq></exif:GPSDest>` +
      `<dc:title>kept</dc:title></rdf:Description>`;
    const buf = Buffer.from(xmp);
    expect(blankXmpGps(buf, 0, buf.length)).toBe(true);
    const out = buf.toString();
    expect(out.length).toBe(xmp.length);
    expect(out).not.toMatch(/gps|>[1-4]</i);
    expect(out.replace(/\s+/g, " ")).toBe(`<rdf:Description tiff:Make="X"> <dc:title>kept</dc:title></rdf:Description>`);
  });

  it("costs linear time on a packet of unclosed GPS tags", () => {
    const buf = Buffer.from("<exif:GPSLatitude>".repeat(50_000));
    const started = performance.now();
    expect(blankXmpGps(buf, 0, buf.length)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(buf.toString().trim()).toBe("");
  });
});
