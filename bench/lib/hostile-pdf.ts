import { existsSync } from "node:fs";
import { mkdir, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { deflateSync } from "node:zlib";

/**
 * A valid one-page PDF whose content stream holds `lines` copies of `0 0 m 1 1 l S` (move,
 * line, stroke: three path operators each). It parses in milliseconds and is tiny once
 * deflated, but every render walks every operator: the shape of the "crafted PDF freezes
 * everything" finding (a renderer running synchronous code on the event loop).
 */
export function hostilePdf(lines: number): Buffer {
  const content = deflateSync(Buffer.from("0 0 m 1 1 l S\n".repeat(lines), "latin1"), { level: 9 });
  const objects: Buffer[] = [
    Buffer.from("<< /Type /Catalog /Pages 2 0 R >>"),
    Buffer.from("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
    Buffer.from("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> /Contents 4 0 R >>"),
    Buffer.concat([Buffer.from(`<< /Length ${content.length} /Filter /FlateDecode >>\nstream\n`), content, Buffer.from("\nendstream")]),
  ];
  // The binary comment line marks the file as binary for transfer tools (PDF 32000-1 §7.5.2).
  const parts: Buffer[] = [Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1")];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const object = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from("\nendobj\n")]);
    parts.push(object);
    offset += object.length;
  });
  // Each cross-reference entry is exactly 20 bytes, ending in space + LF (§7.5.4).
  const xref = [`xref\n0 ${objects.length + 1}\n`, "0000000000 65535 f \n",
    ...offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`)].join("");
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`));
  return Buffer.concat(parts);
}

/** The hostile PDF with `lines` stroked segments, cached in bench/out/fixtures. */
export async function hostilePdfFile(outDir: string, lines: number): Promise<{ path: string; bytes: number; operators: number }> {
  const dir = join(outDir, "fixtures");
  const path = join(dir, `hostile-${lines}-segments.pdf`);
  if (!existsSync(path)) {
    await mkdir(dir, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, hostilePdf(lines));
    await rename(temp, path);
  }
  return { path, bytes: (await stat(path)).size, operators: lines * 3 };
}
