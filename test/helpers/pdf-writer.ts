import { deflateSync } from "node:zlib";

/** One page of a generated PDF: its size in points and its content stream (PDF operators). */
export interface PdfPageSpec {
  width: number;
  height: number;
  content: string | Buffer;
}

/**
 * A minimal, valid PDF 1.4 with the given pages: catalog, page tree, one Flate-compressed
 * content stream per page and an exact cross-reference table, so readers open it without
 * a repair pass. For tests that need documents no fixture has (hostile ones included).
 */
export function buildPdf(pages: readonly PdfPageSpec[]): Buffer {
  if (pages.length === 0) throw new RangeError("a PDF needs at least one page");
  const objects: Buffer[] = [];
  const pageIds = pages.map((_, i) => 3 + i * 2);
  objects.push(Buffer.from("<< /Type /Catalog /Pages 2 0 R >>"));
  objects.push(Buffer.from(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages.length} >>`));
  for (const [i, page] of pages.entries()) {
    const contentId = pageIds[i]! + 1;
    objects.push(Buffer.from(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${page.width} ${page.height}] /Resources << >> /Contents ${contentId} 0 R >>`,
    ));
    const stream = deflateSync(typeof page.content === "string" ? Buffer.from(page.content, "latin1") : page.content);
    objects.push(Buffer.concat([
      Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`),
      stream,
      Buffer.from("\nendstream"),
    ]));
  }

  const chunks: Buffer[] = [Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1")];
  let offset = chunks[0]!.length;
  const offsets: number[] = [];
  for (const [i, body] of objects.entries()) {
    offsets.push(offset);
    const object = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from("\nendobj\n")]);
    chunks.push(object);
    offset += object.length;
  }
  // Each cross-reference entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, EOL.
  const entries = offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  chunks.push(Buffer.from(
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${entries}` +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`,
  ));
  return Buffer.concat(chunks);
}

/** A page that takes a renderer a very long time: `count` separately stroked one-point lines. */
export function manyPathsContent(count: number): string {
  return "0 0 m 1 1 l S\n".repeat(count);
}
