import { OCTET_STREAM } from "./media-types.js";

/**
 * Classifies the first bytes of content that a binary signature sniffer did not recognise.
 * Browsers sniff HTML out of "text" and run it, so we look for markup the way they do
 * (WHATWG MIME Sniffing §7.1, the HTML tag list) before calling anything plain text.
 */
const HTML_TAGS = ["<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div", "<font",
  "<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p", "<!--"];

export function sniffText(head: Uint8Array): string {
  if (head.length === 0) return OCTET_STREAM;
  if (!looksLikeText(head)) return OCTET_STREAM;
  const text = new TextDecoder("utf-8", { fatal: false }).decode(head).replace(/^\uFEFF/, "");
  const trimmed = text.trimStart().toLowerCase();
  if (isSvg(trimmed)) return "image/svg+xml";
  for (const tag of HTML_TAGS) {
    if (trimmed.startsWith(tag)) {
      const next = trimmed.charAt(tag.length);
      if (tag === "<!--" || next === " " || next === ">") return "text/html";
    }
  }
  if (trimmed.startsWith("<?xml")) return "application/xml";
  return "text/plain";
}

function isSvg(lowerText: string): boolean {
  if (lowerText.startsWith("<svg")) return true;
  if (!lowerText.startsWith("<?xml") && !lowerText.startsWith("<!doctype svg") && !lowerText.startsWith("<!--")) return false;
  return /<svg[\s>]/.test(lowerText);
}

/** No NUL or other binary control bytes (tab, LF, FF, CR and ESC are text). */
function looksLikeText(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) return false;
  }
  return true;
}
