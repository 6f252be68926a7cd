import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { FileStore } from "@tus/file-store";
import { ERRORS, Upload } from "@tus/server";
import { BlobNotFoundError } from "../../ports/blob-store.js";
import type { ResumableStaging } from "../../ports/resumable-staging.js";
import { SAFE_ID, type TusStaging } from "../tus-staging.js";

export interface FileTusOptions {
  /** The embedded default is `<dataDir>/tus`. */
  directory: string;
  /** Unfinished uploads older than this answer 410 (tus expiration); 0 = never. */
  expirationMs?: number;
}

/** The datastores throw the plain `{status_code, body}` objects of ERRORS when an upload is missing. */
const isTusMissing = (e: unknown): boolean => e === ERRORS.FILE_NOT_FOUND || e === ERRORS.FILE_NO_LONGER_EXISTS;

/** tus uploads as files in a directory beside the filesystem store. */
export async function createFileTusStaging(options: FileTusOptions): Promise<TusStaging> {
  const { directory } = options;
  // FileStore's constructor creates the directory without waiting and throws from a callback
  // when it cannot: create it here, where a failure is an ordinary start-up error.
  await mkdir(directory, { recursive: true });
  const datastore = new FileStore({ directory, expirationPeriodInMilliseconds: options.expirationMs ?? 0 });

  const staging: ResumableStaging = {
    async read(id) {
      if (!SAFE_ID.test(id)) throw new BlobNotFoundError(`tus/${id}`);
      let upload: Upload;
      try {
        upload = await datastore.getUpload(id);
      } catch (e) {
        if (isTusMissing(e)) throw new BlobNotFoundError(`tus/${id}`);
        throw e;
      }
      // The S3 backend only has an object once the upload is complete; say the same here.
      if (upload.size === undefined || upload.offset !== upload.size) throw new BlobNotFoundError(`tus/${id}`);
      // Opened before returning, so a file removed in between fails here and not mid-stream.
      const handle = await open(join(directory, id), "r").catch((e: NodeJS.ErrnoException) => {
        throw e.code === "ENOENT" ? new BlobNotFoundError(`tus/${id}`) : e;
      });
      return handle.createReadStream();
    },
    async remove(id) {
      if (!SAFE_ID.test(id)) return;
      // Not FileStore.remove: when the data file is already gone it throws before deleting
      // the `.json` next to it, which would then stay forever.
      await rm(join(directory, id), { force: true });
      await rm(join(directory, `${id}.json`), { force: true });
    },
  };
  return { datastore, staging, close: async () => {} };
}
