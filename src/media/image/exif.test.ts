import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { exifDateTime, exifFacts, readExif } from "./exif.js";

describe("exifDateTime", () => {
  it("turns EXIF's colon date into a zone-less ISO local time", () => {
    expect(exifDateTime("2008:04:20 19:12:06")).toBe("2008-04-20T19:12:06");
    expect(exifDateTime("2015:04:29 14:33:31\0")).toBe("2015-04-29T14:33:31");
  });

  it("drops placeholders and garbage", () => {
    for (const value of ["0000:00:00 00:00:00", "    :  :     :  :  ", "2008:13:01 00:00:00", "yesterday", 42, undefined]) {
      expect(exifDateTime(value)).toBeUndefined();
    }
  });
});

describe("exifFacts", () => {
  it("cuts strings at NUL and trims them", () => {
    expect(exifFacts({ Make: "Nokia\u00002", Model: "  N9  " })).toEqual({ make: "Nokia", model: "N9" });
  });

  it("rounds float noise from rationals and takes the first ISO of a list", () => {
    expect(exifFacts({ FNumber: 2.200000047683716, ISO: [400, 400], ExposureTime: 1 / 160 }))
      .toEqual({ fNumber: 2.2, iso: 400, exposureTime: 0.00625 });
  });

  it("signs the altitude below sea level and rejects impossible positions", () => {
    expect(exifFacts({ latitude: -33.9, longitude: 151.2, GPSAltitude: 5, GPSAltitudeRef: new Uint8Array([1]) })?.gps)
      .toEqual({ latitude: -33.9, longitude: 151.2, altitude: -5 });
    expect(exifFacts({ latitude: 95, longitude: 10 })).toBeUndefined();
    expect(exifFacts({ latitude: Number.NaN, longitude: 10 })).toBeUndefined();
  });

  it("keeps the offset only with a valid date", () => {
    expect(exifFacts({ DateTimeOriginal: "2020:01:02 03:04:05", OffsetTimeOriginal: "+02:00" }))
      .toEqual({ takenAt: "2020-01-02T03:04:05", takenAtOffset: "+02:00" });
    expect(exifFacts({ OffsetTimeOriginal: "+02:00" })).toBeUndefined();
  });
});

describe("readExif", () => {
  it("reads a block with and without the Exif\\0\\0 prefix", async () => {
    const jpeg = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } })
      .withExif({ IFD0: { Make: "Acme", Model: "Box 1" } }).jpeg().toBuffer();
    const block = (await sharp(jpeg).metadata()).exif!;
    expect(block.subarray(0, 6).toString("latin1")).toBe("Exif\0\0");
    expect(await readExif(block)).toEqual({ make: "Acme", model: "Box 1" });
    expect(await readExif(block.subarray(6))).toEqual({ make: "Acme", model: "Box 1" });
  });

  it("gives undefined for missing or unreadable EXIF instead of failing the image", async () => {
    expect(await readExif(undefined)).toBeUndefined();
    expect(await readExif(Buffer.from("Exif\0\0garbage that is not TIFF"))).toBeUndefined();
    expect(await readExif(Buffer.from("Exif\0\0II*\0\xff\xff\xff\x7f", "latin1"))).toBeUndefined();
  });
});
