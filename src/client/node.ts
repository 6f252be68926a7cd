import { openAsBlob } from "node:fs";
import { basename } from "node:path";
import type { NamedBlob } from "./input.js";

/**
 * A file on disk as an `upload()` input. `fs.openAsBlob` (Node ≥ 19.8) gives a Blob backed
 * by the file: parts are sliced and read lazily, so a multi-gigabyte file is never held in
 * memory. The type is left undeclared unless given; the server sniffs the bytes.
 */
export async function fileInput(path: string, options: { filename?: string; contentType?: string } = {}): Promise<NamedBlob> {
  const blob = await openAsBlob(path, options.contentType ? { type: options.contentType } : {});
  return {
    blob,
    filename: options.filename ?? basename(path),
    ...(options.contentType ? { contentType: options.contentType } : {}),
  };
}
