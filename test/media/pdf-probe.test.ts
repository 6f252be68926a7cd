import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import type { ProbeSource } from "../../src/ports/media-probe.js";
import { cleanText } from "../../src/media/pdf/doc-text.js";
import { createPdfProbe } from "../../src/media/pdf/probe.js";
import { fixture, fixturePath } from "../helpers/fixtures.js";

const probe = createPdfProbe();

function source(relative: string, via: "path" | "buffer" = "path"): ProbeSource {
  const path = fixturePath(relative);
  return { ...(via === "path" ? { path } : {}), read: () => readFile(path), contentType: "application/pdf" };
}

const bytes = (data: Buffer | string): ProbeSource => ({
  read: async () => (typeof data === "string" ? Buffer.from(data) : data), contentType: "application/pdf",
});

async function appErrorOf(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("pdf probe", () => {
  it("handles application/pdf only", () => {
    expect(probe.handles("application/pdf")).toBe(true);
    expect(probe.handles("Application/PDF; charset=binary")).toBe(true);
    expect(probe.handles("image/png")).toBe(false);
    expect(probe.handles("video/mp4")).toBe(false);
  });

  it("reads the 11-page A4 document: pages, page-1 size in points, title, author", async () => {
    for (const via of ["path", "buffer"] as const) {
      const meta = await probe.describe(source("documents/asymptote-asy-latex-11-pages.pdf", via));
      expect(meta).toEqual({
        pages: 11, pageWidth: 595.276, pageHeight: 841.89, encrypted: false,
        title: "The asymptote package", author: "John Bowman, Tom Prince, and Will Robertson",
      });
    }
  });

  it("marks the password-protected document encrypted, without a page count and without failing", async () => {
    expect(await probe.describe(source("documents/encrypted-aes256-cad-7-pages.pdf"))).toEqual({ encrypted: true });
  });

  it("refuses bytes that are not a PDF as undecodable_media", async () => {
    for (const data of ["not a pdf at all", "", "%PDF-1.7\n garbage with no objects"]) {
      const error = await appErrorOf(probe.describe(bytes(data)));
      expect(error.code).toBe("undecodable_media");
      expect(error.status).toBe(422);
    }
    const eicar = await appErrorOf(probe.describe(bytes(fixture("hostile/eicar.txt"))));
    expect(eicar.code).toBe("undecodable_media");
  });

  it("refuses a truncated PDF as undecodable_media", async () => {
    const whole = fixture("documents/asymptote-asy-latex-11-pages.pdf");
    const error = await appErrorOf(probe.describe(bytes(whole.subarray(0, whole.length / 2))));
    expect(error.code).toBe("undecodable_media");
  });

  it("does not load a document over maxBytes; the manifest says why", async () => {
    const small = createPdfProbe({ maxBytes: 1000 });
    for (const via of ["path", "buffer"] as const) {
      const meta = await small.describe(source("documents/asymptote-asy-latex-11-pages.pdf", via));
      expect(meta).toEqual({ mediaFactsUnavailable: expect.stringMatching(/larger than/) });
    }
  });

  it("gives up at the timeout (undecodable_media) and still releases the document", async () => {
    const hasty = createPdfProbe({ timeoutMs: 1 });
    const error = await appErrorOf(hasty.describe(source("documents/asymptote-asy-latex-11-pages.pdf")));
    expect(error.code).toBe("undecodable_media");
    expect(String((error.cause as Error).message)).toMatch(/timed out/);
  });

  it("probes many documents at once without sharing state", async () => {
    const metas = await Promise.all([1, 2, 3, 4].map((i) => probe.describe(source(
      i % 2 ? "documents/asymptote-asy-latex-11-pages.pdf" : "documents/encrypted-aes256-cad-7-pages.pdf"))));
    expect(metas.map((m) => m.pages ?? "encrypted")).toEqual([11, "encrypted", 11, "encrypted"]);
  });

  it("status() names pdfjs-dist's version", async () => {
    expect(await probe.status()).toEqual({ name: "pdfjs-dist", available: true, version: expect.stringMatching(/^pdfjs-dist \d+\./) });
  });
});

describe("document-info text", () => {
  it("trims, drops control characters, joins XMP creator lists, bounds the length", () => {
    expect(cleanText("  A\u0000 title\n ")).toBe("A title");
    expect(cleanText(["Ada", "Grace"])).toBe("Ada, Grace");
    expect(cleanText("   ")).toBeUndefined();
    expect(cleanText({ name: "False" })).toBeUndefined();
    expect(cleanText("x".repeat(5000))!.length).toBe(1024);
  });
});
