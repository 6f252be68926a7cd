import { AppError } from "../domain/errors.js";

/**
 * `Content-Digest` (RFC 9530) is a structured-field dictionary such as
 * `sha-256=:<base64>:, sha-512=:...:`. We verify sha-256 and ignore algorithms we do not
 * compute, as the RFC allows. Returns the expected digest as lower-case hex, or undefined.
 */
export function parseContentDigest(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const member of header.split(",")) {
    const eq = member.indexOf("=");
    if (eq < 0) continue;
    const alg = member.slice(0, eq).trim().toLowerCase();
    if (alg !== "sha-256") continue;
    const value = member.slice(eq + 1).trim();
    const match = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(value);
    const bytes = match ? Buffer.from(match[1]!, "base64") : undefined;
    if (!bytes || bytes.length !== 32) {
      throw new AppError("bad_digest", "Content-Digest sha-256 must be a byte sequence (:base64:) of 32 bytes");
    }
    return bytes.toString("hex");
  }
  return undefined;
}

export function formatContentDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, "hex").toString("base64")}:`;
}

/** The filename in `Content-Disposition: attachment; filename*=UTF-8''...; filename="..."`. */
export function filenameFromDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      // malformed percent-encoding: fall back to the plain parameter
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(header);
  if (quoted) return quoted[1]!.replace(/\\(.)/g, "$1");
  const bare = /filename\s*=\s*([^;\s]+)/.exec(header);
  return bare?.[1];
}

/** `Content-Disposition` for a download, ASCII fallback plus RFC 6266 UTF-8 form. */
export function contentDisposition(kind: "attachment" | "inline", filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
