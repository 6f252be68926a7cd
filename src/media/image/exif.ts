import exifr from "exifr";

/** The EXIF facts the manifest shows. `gps` is private: the service hides it from non-owners. */
export interface ExifFacts {
  make?: string;
  model?: string;
  lens?: string;
  /** Seconds. */
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  /** Millimetres. */
  focalLength?: number;
  /** DateTimeOriginal as local wall-clock time, ISO without a zone: EXIF stores none. */
  takenAt?: string;
  /** OffsetTimeOriginal (EXIF 2.31) when the camera wrote one, e.g. "+02:00". */
  takenAtOffset?: string;
  gps?: { latitude: number; longitude: number; altitude?: number };
}

const TAGS = ["Make", "Model", "LensModel", "ExposureTime", "FNumber", "ISO", "FocalLength", "DateTimeOriginal",
  "OffsetTimeOriginal", "GPSLatitude", "GPSLatitudeRef", "GPSLongitude", "GPSLongitudeRef", "GPSAltitude", "GPSAltitudeRef"];

const EXIF_PREFIX = Buffer.from("Exif\0\0", "latin1");

/**
 * `block` is sharp's `metadata().exif`: the APP1 payload, "Exif\0\0" then a TIFF structure.
 * exifr cannot find EXIF inside WebP/AVIF/HEIC containers itself, but parses the bare TIFF
 * structure from any of them. Unreadable EXIF is no reason to reject an image: undefined.
 */
export async function readExif(block: Buffer | undefined): Promise<ExifFacts | undefined> {
  if (!block || block.length < 8) return undefined;
  const tiff = block.subarray(0, 6).equals(EXIF_PREFIX) ? block.subarray(6) : block;
  let raw: Record<string, unknown> | undefined;
  try {
    raw = await exifr.parse(tiff, {
      tiff: true, exif: true, gps: true, ifd1: false, interop: false, makerNote: false, userComment: false,
      xmp: false, icc: false, iptc: false, jfif: false, ihdr: false,
      // Revived dates become Date objects in the server's zone; we want the camera's wall clock.
      reviveValues: false, translateValues: false, pick: TAGS,
    });
  } catch {
    return undefined;
  }
  return raw ? exifFacts(raw) : undefined;
}

/** Exported for tests: shapes exifr's output into ExifFacts. */
export function exifFacts(raw: Record<string, unknown>): ExifFacts | undefined {
  const facts: ExifFacts = {};
  const make = text(raw.Make);
  const model = text(raw.Model);
  const lens = text(raw.LensModel);
  if (make) facts.make = make;
  if (model) facts.model = model;
  if (lens) facts.lens = lens;
  const exposureTime = positive(raw.ExposureTime);
  const fNumber = positive(raw.FNumber);
  const iso = positive(Array.isArray(raw.ISO) ? raw.ISO[0] : raw.ISO);
  const focalLength = positive(raw.FocalLength);
  if (exposureTime !== undefined) facts.exposureTime = exposureTime;
  if (fNumber !== undefined) facts.fNumber = fNumber;
  if (iso !== undefined) facts.iso = iso;
  if (focalLength !== undefined) facts.focalLength = focalLength;
  const takenAt = exifDateTime(raw.DateTimeOriginal);
  if (takenAt) facts.takenAt = takenAt;
  const offset = typeof raw.OffsetTimeOriginal === "string" ? raw.OffsetTimeOriginal.trim() : "";
  if (takenAt && /^[+-]\d{2}:\d{2}$/.test(offset)) facts.takenAtOffset = offset;
  const gps = gpsFacts(raw);
  if (gps) facts.gps = gps;
  return Object.keys(facts).length > 0 ? facts : undefined;
}

/** "2008:04:20 19:12:06" -> "2008-04-20T19:12:06"; placeholders such as "0000:00:00" dropped. */
export function exifDateTime(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
}

function gpsFacts(raw: Record<string, unknown>): ExifFacts["gps"] {
  // exifr derives signed decimal degrees from the DMS rationals and the N/S, E/W refs.
  const latitude = raw.latitude;
  const longitude = raw.longitude;
  if (typeof latitude !== "number" || typeof longitude !== "number") return undefined;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    return undefined;
  }
  const gps: NonNullable<ExifFacts["gps"]> = { latitude: round(latitude, 7), longitude: round(longitude, 7) };
  if (typeof raw.GPSAltitude === "number" && Number.isFinite(raw.GPSAltitude)) {
    // GPSAltitudeRef 1 means below sea level.
    const ref = raw.GPSAltitudeRef;
    const below = ref === 1 || (ref instanceof Uint8Array && ref[0] === 1);
    gps.altitude = round(below ? -raw.GPSAltitude : raw.GPSAltitude, 2);
  }
  return gps;
}

/** Camera strings end at a NUL (the Nokia fixture's Make is "Nokia\02"), and land in JSON/UI. */
function text(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const nul = value.indexOf("\0");
  // eslint-disable-next-line no-control-regex
  const cleaned = (nul === -1 ? value : value.slice(0, nul)).replace(/[\u0000-\u001f\u007f]/g, "").trim();
  return cleaned ? cleaned.slice(0, 120) : undefined;
}

/** Rationals arrive as floats (2.200000047683716): six decimals is beyond any lens or shutter. */
function positive(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? round(value, 6) : undefined;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
