/**
 * Media-type rules: normalising what clients declare, classifying what we sniffed, and
 * deciding which types may be shown inline. Pure: the sniffing itself is an adapter.
 */

export const OCTET_STREAM = "application/octet-stream";

const ALIASES: Readonly<Record<string, string>> = {
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "image/x-png": "image/png",
  "image/x-ms-bmp": "image/bmp",
  "image/x-icon": "image/vnd.microsoft.icon",
  "image/heif": "image/heic",
  "image/heic-sequence": "image/heic",
  "image/heif-sequence": "image/heic",
  "application/x-pdf": "application/pdf",
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/mp3": "audio/mpeg",
  "audio/x-flac": "audio/flac",
  "video/x-m4v": "video/mp4",
  "application/x-zip-compressed": "application/zip",
  "text/xml": "application/xml",
};

/** Lower-cases, drops parameters and resolves aliases; "" for an absent value. */
export function normaliseType(value: string | undefined | null): string {
  if (!value) return "";
  const base = value.split(";")[0]!.trim().toLowerCase();
  return ALIASES[base] ?? base;
}

/** A missing Content-Type or `application/octet-stream` means "not declared". */
export function declaredType(contentType: string | undefined, filename: string | undefined): string | undefined {
  const fromHeader = normaliseType(contentType);
  if (fromHeader && fromHeader !== OCTET_STREAM) return fromHeader;
  const ext = filename?.toLowerCase().match(/\.([a-z0-9]{1,8})$/)?.[1];
  return ext ? EXTENSION_TYPES[ext] : undefined;
}

/** Extensions that declare a type when the client sent no Content-Type. */
const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  jpg: "image/jpeg", jpeg: "image/jpeg", jpe: "image/jpeg", png: "image/png", gif: "image/gif",
  webp: "image/webp", avif: "image/avif", heic: "image/heic", heif: "image/heic", tif: "image/tiff",
  tiff: "image/tiff", bmp: "image/bmp", svg: "image/svg+xml", pdf: "application/pdf",
  mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", webm: "video/webm", mkv: "video/x-matroska",
  mp3: "audio/mpeg", ogg: "audio/ogg", oga: "audio/ogg", wav: "audio/wav", flac: "audio/flac",
  html: "text/html", htm: "text/html",
};

/**
 * Types a sniffer recognises from bytes. A declaration of one of these must match what the
 * bytes are; a declaration of anything else cannot be checked, so the sniffed type wins.
 */
function isSniffable(type: string): boolean {
  return type.startsWith("image/") || type.startsWith("video/") || type.startsWith("audio/") ||
    type === "application/pdf" || type === "text/html" || type === "application/zip";
}

/** Container families where a sniffer and a client may name the same bytes differently. */
const EQUIVALENT: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["video/mp4", "video/quicktime", "audio/mp4", "audio/x-m4a", "audio/m4a"]),
  new Set(["video/webm", "video/x-matroska", "audio/webm"]),
  new Set(["audio/ogg", "video/ogg", "application/ogg", "audio/opus"]),
];

export type TypeCheck = { ok: true } | { ok: false; declared: string; sniffed: string };

/** Declared vs sniffed: a client that lies about the type gets 415 naming both. */
export function checkDeclaredType(declared: string | undefined, sniffed: string): TypeCheck {
  if (!declared || declared === sniffed) return { ok: true };
  if (EQUIVALENT.some((family) => family.has(declared) && family.has(sniffed))) return { ok: true };
  if (!isSniffable(declared) && !isSniffable(sniffed)) return { ok: true };
  return { ok: false, declared, sniffed };
}

export type AssetKind = "image" | "video" | "audio" | "document" | "other";
export const ASSET_KINDS: readonly AssetKind[] = ["image", "video", "audio", "document", "other"];

const DOCUMENT_TYPES = new Set([
  "application/pdf", "text/plain", "text/csv", "text/markdown", "application/json", "application/rtf",
  "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/vnd.oasis.opendocument.text", "application/epub+zip",
]);

export function kindOf(type: string): AssetKind {
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  if (DOCUMENT_TYPES.has(type)) return "document";
  return "other";
}

/**
 * Content a browser would execute if shown inline on our origin. Served only with
 * `Content-Security-Policy: sandbox`, and HTML-like types only as attachments.
 */
export function isActiveContent(type: string): boolean {
  return type === "image/svg+xml" || type === "text/html" || type === "application/xhtml+xml" ||
    type === "application/xml" || type === "text/xml" || type.includes("javascript");
}

export function mustDownload(type: string): boolean {
  return type === "text/html" || type === "application/xhtml+xml" || type.includes("javascript");
}

/** Image formats browsers display and our engine writes; others become JPEG or PNG. */
export const WEB_IMAGE_FORMATS = ["jpeg", "png", "webp", "avif", "gif"] as const;
export type WebImageFormat = (typeof WEB_IMAGE_FORMATS)[number];

export function webFormatOf(type: string): WebImageFormat | undefined {
  const sub = type.startsWith("image/") ? type.slice(6) : "";
  return (WEB_IMAGE_FORMATS as readonly string[]).includes(sub) ? (sub as WebImageFormat) : undefined;
}

export const FORMAT_CONTENT_TYPE: Readonly<Record<WebImageFormat, string>> = {
  jpeg: "image/jpeg", png: "image/png", webp: "image/webp", avif: "image/avif", gif: "image/gif",
};

/** The allowed-types policy: entries like `image/*`, `application/pdf` or `*`. */
export class TypePolicy {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];
  private readonly any: boolean;

  constructor(entries: readonly string[]) {
    let any = false;
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (entry === "*" || entry === "*/*") any = true;
      else if (entry.endsWith("/*")) this.prefixes.push(entry.slice(0, -1));
      else if (entry) this.exact.add(normaliseType(entry));
    }
    this.any = any;
  }

  allows(type: string): boolean {
    return this.any || this.exact.has(type) || this.prefixes.some((p) => type.startsWith(p));
  }
}
