import { createClient } from "../../src/client/index.js";
import { ApiError, getToken, type Manifest, type UploadResult } from "./api";

/**
 * A large file through the project's own client over tus 1.0: sent in chunks, resumed after
 * a dropped connection instead of starting again. tus answers no dedup verdict: `deduplicated`
 * is left undefined.
 */
export async function uploadResumable(file: File, onProgress: (sent: number, total: number) => void, signal?: AbortSignal): Promise<Omit<UploadResult, "deduplicated"> & { deduplicated?: undefined }> {
  const client = createClient({ baseUrl: location.origin, token: () => getToken() ?? undefined });
  try {
    const manifest = await client.upload(file, {
      method: "tus", onProgress: ({ loaded, total }) => onProgress(loaded, total), ...(signal ? { signal } : {}),
    });
    return { manifest: manifest as unknown as Manifest };
  } catch (error) {
    const e = error as { status?: number; code?: string; message?: string };
    throw new ApiError(e.status ?? 0, e.code ?? "error", e.message ?? String(error));
  }
}
