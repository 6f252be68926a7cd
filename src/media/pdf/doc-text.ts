/**
 * Document-info strings come from the uploader: strip control characters (a UTF-16
 * string decoded badly is full of NULs), collapse whitespace and bound the length, so a
 * crafted title cannot bloat or corrupt the manifest.
 */
const MAX_CHARS = 1024;

export function cleanText(value: unknown): string | undefined {
  const raw = Array.isArray(value) ? value.filter((v) => typeof v === "string").join(", ") : value;
  if (typeof raw !== "string") return undefined;
  const text = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").replace(/\s+/g, " ").trim();
  if (text === "") return undefined;
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}

/** The first non-empty value: the Info dictionary, then XMP (dc:title / dc:creator). */
export const firstText = (...values: unknown[]): string | undefined => {
  for (const value of values) {
    const text = cleanText(value);
    if (text !== undefined) return text;
  }
  return undefined;
};

/** Points, to a thousandth (A4 is 595.276 x 841.89). */
export const roundPoints = (n: number): number => Math.round(n * 1000) / 1000;
