import { describe, expect, it } from "vitest";
import { sanitiseFilename } from "./filename.js";

describe("sanitiseFilename and Unicode format characters", () => {
  it("drops a right-to-left override that disguises an executable", () => {
    // Displayed as "invoiceexe.pdf" by anything that honours the override.
    expect(sanitiseFilename("invoice\u202Efdp.exe")).toBe("invoicefdp.exe");
  });

  it("drops every bidi embedding, override, isolate and mark", () => {
    const bidi = ["\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066", "\u2067", "\u2068", "\u2069", "\u200E", "\u200F", "\u061C"];
    for (const ch of bidi) {
      expect(sanitiseFilename(`a${ch}b.txt`), `U+${ch.codePointAt(0)!.toString(16)}`).toBe("ab.txt");
    }
    expect(sanitiseFilename(`${bidi.join("")}report.pdf`)).toBe("report.pdf");
  });

  it("drops the other invisible format characters, C1 controls and line separators", () => {
    // zero width space/non-joiner, word joiner, BOM, soft hyphen, Mongolian vowel separator, a tag character
    for (const ch of ["\u200B", "\u200C", "\u2060", "\uFEFF", "\u00AD", "\u180E", "\u{E0041}", "\u0085", "\u009B", "\u2028", "\u2029"]) {
      expect(sanitiseFilename(`a${ch}b.txt`), `U+${ch.codePointAt(0)!.toString(16)}`).toBe("ab.txt");
    }
  });

  it("keeps ZERO WIDTH JOINER, which emoji sequences need, and ordinary right-to-left text", () => {
    const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
    expect(sanitiseFilename(`${family}.png`)).toBe(`${family}.png`);
    expect(sanitiseFilename("שלום.txt")).toBe("שלום.txt");
    expect(sanitiseFilename("مرحبا.pdf")).toBe("مرحبا.pdf");
  });

  it("falls back when nothing visible is left", () => {
    expect(sanitiseFilename("\u202E\u200F\u2066")).toBe("upload");
    expect(sanitiseFilename("\u202E.hidden")).toBe("hidden");
  });
});
