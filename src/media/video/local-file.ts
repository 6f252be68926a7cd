import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ProbeSource } from "../../ports/media-probe.js";

/**
 * Gives the tool a seekable file. Piping bytes to ffprobe's stdin loses facts: an Ogg's
 * duration is in its last page and an MP4's moov may follow its mdat, neither of which a
 * non-seekable pipe reaches in time (measured: the Ogg fixture had no duration, the
 * moov-at-end MP4 no pixel format). So a store without local paths (S3) costs a private
 * temporary copy, removed on every path out.
 */
export async function withLocalFile<T>(source: ProbeSource, tempDir: string, use: (path: string) => Promise<T>): Promise<T> {
  if (source.path !== undefined) return use(source.path);
  const bytes = await source.read();
  const dir = await mkdtemp(join(tempDir, "assetd-probe-"));
  try {
    const path = join(dir, "media");
    await writeFile(path, bytes, { mode: 0o600 });
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
