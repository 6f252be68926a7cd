import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Transcoder } from "../../ports/transcoder.js";
import type { HlsTranscoder } from "./hls.js";

/**
 * The ffmpeg ladder transcoder behind the Transcoder port: each run gets a private temp
 * directory (the source copy for stores without local files, and the ladder), removed
 * whatever happens, so the use case never sees a path it has to clean up.
 */
export function createHlsWorkspaces(transcoder: HlsTranscoder, options: { tempDir?: string } = {}): Transcoder {
  const tempRoot = options.tempDir ?? tmpdir();
  return {
    status: () => transcoder.status(),
    async withWorkspace(use) {
      const work = await mkdtemp(join(tempRoot, "assetd-hls-"));
      const outDir = join(work, "out");
      try {
        return await use({
          async localCopy(body: Readable, signal?: AbortSignal) {
            const path = join(work, "source");
            await pipeline(body, createWriteStream(path, { mode: 0o600 }), { signal });
            return path;
          },
          async transcode(source, signal) {
            const { files } = await transcoder.transcode(source, outDir, signal);
            return { files };
          },
          async read(name) {
            // Names come from the transcode's own listing; still, never read outside the ladder.
            const path = resolve(outDir, name);
            if (!path.startsWith(resolve(outDir) + sep)) throw new Error(`not a ladder file: ${name}`);
            return readFile(path);
          },
        });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}
